"""localize.prometheus_config: the test intervals everywhere, or (shorten=False, the bench's
production-like alert latency) every interval and timeout exactly as rendered."""

from __future__ import annotations

import copy
from typing import Any

from infra.monitoring import prometheus_config
from infra.stack import build_stack
from infra.stack.prometheus import scrape_targets
from testbed import localize
from testbed.settings import settings_of

TIMINGS = ("scrape_interval", "scrape_timeout", "evaluation_interval")


def rendered() -> dict[str, Any]:
    settings = settings_of({}, frozenset({"metricsToken"}))
    return prometheus_config.prometheus_config(settings, scrape_targets(build_stack(settings).long_running()))


def everywhere() -> dict[str, str]:
    """Every target of the rendered config, mapped to a local address."""
    config = rendered()
    targets = [t for job in config["scrape_configs"] for s in job["static_configs"] for t in s["targets"]]
    targets += [t for am in config["alerting"]["alertmanagers"] for s in am["static_configs"] for t in s["targets"]]
    return {t: f"127.0.0.1:{9000 + i}" for i, t in enumerate(targets)}


def timings(config: dict[str, Any]) -> dict[str, dict[str, str]]:
    found = {"global": {k: v for k, v in config["global"].items() if k in TIMINGS}}
    for job in config["scrape_configs"]:
        found[job["job_name"]] = {k: v for k, v in job.items() if k in TIMINGS}
    return found


def test_production_like_keeps_every_rendered_interval_and_timeout() -> None:
    original = rendered()
    # The gateway job has its own, longer interval and timeout: the case the old code lost.
    assert timings(original)["gateway"] == {"scrape_interval": "30s", "scrape_timeout": "10s"}
    local = localize.prometheus_config(copy.deepcopy(original), everywhere(), shorten=False)
    assert timings(local) == timings(original)
    # Only the addresses changed.
    assert [j["job_name"] for j in local["scrape_configs"]] == [j["job_name"] for j in original["scrape_configs"]]
    assert all(
        t.startswith("127.0.0.1:") for j in local["scrape_configs"] for s in j["static_configs"] for t in s["targets"]
    )


def test_shortened_sets_every_interval_and_timeout_to_the_test_interval() -> None:
    original = timings(rendered())
    local = timings(localize.prometheus_config(rendered(), everywhere()))
    # Each interval or timeout the rendered config sets (globally or per job) is the test interval.
    assert local == {where: dict.fromkeys(values, localize.INTERVAL) for where, values in original.items()}
    assert local["gateway"] == {"scrape_interval": localize.INTERVAL, "scrape_timeout": localize.INTERVAL}
