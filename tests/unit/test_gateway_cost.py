"""The gateway's /metrics cost (infra/settings/gateway_cost.py) and what the stack derives from it:
the memory default, the audit alert's capacity, the scrape timeout and the health checks agree."""

from __future__ import annotations

import pytest

from infra.alerting import stack_constants
from infra.alerting import thresholds as t
from infra.settings import gateway_cost as cost
from infra.settings.base import duration_seconds
from infra.stack import build_stack, gateway
from infra.targets.kubernetes_map import pods
from testbed.settings import settings_of
from tests.support.kubernetes import variant_settings


def test_the_model_meets_every_measurement() -> None:
    # 15 us per entry: 1.0 s at 65k, 7.3 s at 500k measured (the model is the worst, never below).
    assert cost.scrape_seconds(65_000) == pytest.approx(0.975)
    assert cost.scrape_seconds(500_000) >= 7.3
    for entries, mib in cost.RSS_MIB_AT:
        assert cost.rss_mib(entries) == pytest.approx(mib)
        assert cost.entries_at_memory_limit(mib) == pytest.approx(entries, abs=1)
    # Beyond 500k at the last slope (5.5 MiB per 1000 entries), steeper than the average before it.
    assert cost.rss_mib(600_000) == pytest.approx(1843.2 + 100_000 * 819.2 / 150_000)
    assert cost.entries_at_memory_limit(cost.rss_mib(600_000)) == pytest.approx(600_000, abs=1)
    assert pytest.approx(9.4 / 7.3) == cost.HEALTH_WAIT_FACTOR


def test_with_the_defaults_memory_outlasts_the_scrape_timeout() -> None:
    """The old 1024 MiB ran out at ~350k entries, before GatewayScrapeSlow fired (333k at 5 s) or just
    after; the default now holds what the default timeout allows."""
    s = settings_of({})
    timeout_s = duration_seconds(s.gateway_scrape_timeout)
    assert s.gateway_memory_mb == cost.DEFAULT_MEMORY_MIB == 2816
    at_timeout = cost.entries_at_scrape_timeout(timeout_s)
    assert cost.entries_at_memory_limit(s.gateway_memory_mb) >= at_timeout
    assert cost.entries_at_memory_limit(1024) < at_timeout * t.GATEWAY_SCRAPE_SLOW.value * 1.1
    # The audit capacity is then the timeout's, and the audit warning comes where GatewayScrapeSlow does.
    assert stack_constants.audit_capacity(s) == at_timeout == 666_666
    slow_at = cost.entries_at_scrape_timeout(timeout_s * t.GATEWAY_SCRAPE_SLOW.value)
    assert stack_constants.audit_capacity(s) * t.GATEWAY_AUDIT_LOG_LARGE.value == pytest.approx(slow_at, abs=1)
    # ... and the critical before HighMemoryUsage's critical tier could be reached.
    critical_entries = stack_constants.audit_capacity(s) * t.GATEWAY_AUDIT_LOG_LARGE_CRITICAL.value
    assert cost.rss_mib(critical_entries) < s.gateway_memory_mb * t.HIGH_MEMORY_USAGE_CRITICAL.value


@pytest.mark.parametrize(
    ("memory_mb", "capacity"),
    [(1024, 350_000), (2048, 537_500), (2816, 666_666), (8192, 666_666)],
)
def test_the_capacity_is_the_first_limit_reached(memory_mb: int, capacity: int) -> None:
    s = settings_of({"gatewayMemoryMb": memory_mb})
    assert stack_constants.audit_capacity(s) == capacity
    assert f"{stack_constants.GATEWAY_AUDIT_CAPACITY}: vector({capacity})" in " ".join(
        f"{k}: {v}" for k, v in stack_constants.stack_constant_exprs(s).items()
    )


@pytest.mark.parametrize(("timeout", "interval"), [("10s", "30s"), ("20s", "30s"), ("45s", "1m")])
def test_no_scrape_within_the_timeout_fails_the_gateways_health_check(timeout: str, interval: str) -> None:
    s = settings_of({"gatewayScrapeTimeout": timeout, "gatewayScrapeInterval": interval})
    health = build_stack(s).service(gateway.NAME).health
    worst_wait = duration_seconds(timeout) * cost.HEALTH_WAIT_FACTOR
    assert health.timeout_s > worst_wait
    assert health.interval_s > health.timeout_s and health.interval_s >= gateway.HEALTH_INTERVAL_S


def test_kubernetes_probes_wait_out_a_scrape_and_run_no_more_often_than_they_may_take() -> None:
    s = variant_settings("full")
    probes = pods.health_probes(build_stack(s).service(gateway.NAME))
    worst_wait = duration_seconds(s.gateway_scrape_timeout) * cost.HEALTH_WAIT_FACTOR
    for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
        probe = probes[kind]
        assert probe["timeoutSeconds"] > worst_wait, kind
        assert probe["periodSeconds"] >= probe["timeoutSeconds"], kind
