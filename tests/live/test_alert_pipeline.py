"""End to end on 127.0.0.1: gateway -> Prometheus -> Alertmanager -> webhook receiver.

With the REAL gateway (tests/support/real_gateway.py), idle: scraped through the rendered metrics-auth
proxy with an admin API key made through its API, no alert but the Watchdog is pending or firing over
several evaluation cycles, and GatewayDown reaches the webhook once the gateway is stopped.

With the gateway DOUBLE, because the real gateway cannot be driven into these states on demand (a
queue depth over a threshold, then back under it, then past the critical tier):
Debian's prometheus (2.42), prometheus-alertmanager (0.25) and caddy (2.6, the metrics-auth
proxy) run with the RENDERED configs of a stack that enables the webhook and heartbeat receivers
and sets metricsToken, changed only by
testbed/localize.py (addresses, intervals, the driven alert's `for`, secrets filled in);
the backup service runs its rendered `serve` command (testbed/live_stack.py). The test
drives friday_tasks_queue_depth over the HighQueueDepth threshold on the double, waits for the
alert at the webhook, then for its resolution, then past the critical tier's threshold (both
tiers fire; the webhook gets the critical, Alertmanager's inhibit rule holds back the warning),
and checks that the Watchdog reaches the
heartbeat receiver, that every target is up and that BackupStale stays inactive after the
backup service's real backup. The measured detection latency is printed and written to
build/live/alert-latency.json (docs/monitoring.md quotes it).
"""

from __future__ import annotations

import calendar
import contextlib
import json
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from infra.alerting import committed, rules, stack_constants, thresholds
from infra.alerting.runbooks import runbook_url
from infra.backup.metrics import LAST_SUCCESS
from infra.stack import gateway
from testbed import localize
from testbed.gateway_double import GatewayDouble
from testbed.live_stack import LiveStack, live_settings, live_stack
from testbed.paths import REPO_ROOT
from testbed.processes import wait_for
from tests.support.real_gateway import RealGateway

pytestmark = pytest.mark.live

TOKEN = "live-test-admin-key-5f1c9e"
DRIVEN = thresholds.HIGH_QUEUE_DEPTH
# The critical tier of the same alertname: shortened with it (localize shortens every rule of
# the alertname), driven past after the warning's round trip to show the inhibit rule at work.
DRIVEN_CRITICAL = thresholds.HIGH_QUEUE_DEPTH_CRITICAL
START_TIMEOUT = 30.0
ALERT_TIMEOUT = 60.0
# Rule evaluations (1 s apart here) to see after the backup before judging BackupStale.
EVALUATIONS = 3
# Evaluation cycles an idle real gateway is watched for: any rule that would fire is pending by then.
IDLE_CYCLES = 10


def check_metric_names_and_constants(stack: LiveStack, gw: GatewayDouble) -> None:
    # The self-monitoring alerts use these names: they exist in the real binaries.
    for metric in (
        "prometheus_rule_evaluation_failures_total",
        "prometheus_config_last_reload_successful",
        "alertmanager_notifications_failed_total",
        "alertmanager_config_last_reload_successful",
    ):
        assert stack.query(metric), f"{metric} has no series"
    # The per-stack constants are loaded and join with the gateway's real series.
    memory_limit_mb = stack.settings.gateway_memory_mb
    [limit] = stack.query(stack_constants.MEMORY_LIMIT_MB)
    assert limit["value"][1] == str(memory_limit_mb)
    # HighMemoryUsage's own left-hand side: the RSS of the gateway, in MiB, over the stack's limit.
    [share] = stack.query(f"{rules.gateway_memory_mb()} / on() group_left() {stack_constants.MEMORY_LIMIT_MB}")
    assert share["metric"]["job"] == "gateway"
    rss_mb = gw.values.value("process_rss_bytes") / 1048576
    assert float(share["value"][1]) == pytest.approx(rss_mb / memory_limit_mb)


def check_backup_stale_is_silent(stack: LiveStack) -> None:
    """After the backup service's real backup, BackupStale is evaluated, healthy and inactive."""
    backup_up = wait_for(
        "a successful backup in Prometheus",
        lambda: [r for r in stack.query(f"{LAST_SUCCESS} > 0") if r["metric"]["job"] == "backup"],
        START_TIMEOUT,
        stack.logs,
    )
    finished = float(backup_up[0]["value"][1])
    assert time.time() - 3600 < finished <= time.time()
    [limit] = stack.query(stack_constants.BACKUP_STALE_AFTER_SECONDS)
    assert float(limit["value"][1]) == stack.settings.backup_stale_after_hours * 3600
    seen_at = time.time()

    def evaluated_since() -> dict[str, Any] | None:
        rule = stack.rule(thresholds.BACKUP_STALE.alert)
        if rule is None or not rule.get("lastEvaluation"):
            return None
        # RFC 3339 with nanoseconds; the seconds part is enough to order it after seen_at.
        evaluated = calendar.timegm(time.strptime(rule["lastEvaluation"][:19], "%Y-%m-%dT%H:%M:%S"))
        return rule if evaluated >= seen_at + EVALUATIONS else None

    rule = wait_for("BackupStale evaluated after the backup", evaluated_since, START_TIMEOUT, stack.logs)
    assert rule["health"] == "ok", rule
    # Neither pending nor firing: without backup metrics, absent() would make it pending at once.
    assert rule["state"] == "inactive" and rule["alerts"] == [], rule
    assert stack.query(f'ALERTS{{alertname="{thresholds.BACKUP_STALE.alert}"}}') == []
    assert rule["annotations"]["runbook_url"] == runbook_url(thresholds.BACKUP_STALE.alert)


def check_scrape_credential_reaches_the_gateway_as_x_api_key(stack: LiveStack, gw: GatewayDouble) -> None:
    """The design of docs/monitoring.md, live: the double refuses the admin key as Bearer (as the
    real gateway does), yet the gateway job is up through the rendered metrics-auth proxy and
    GatewayDown has been evaluated and stays inactive."""
    url = f"{gw.url}{gateway.METRICS_PATH}"
    assert requests.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5).status_code == 401
    assert requests.get(url, headers={"X-API-Key": TOKEN}, timeout=5).status_code == 200
    [up] = stack.query('up{job="gateway"}')
    assert up["value"][1] == "1" and up["metric"]["instance"] == f"{gateway.NAME}:{stack.settings.gateway_port}"
    # The scrapes that reached the double came through the proxy with the key (200s, no 401s).
    assert ("GET", gateway.METRICS_PATH, 200) in gw.requests
    seen_at = time.time()

    def evaluated_since() -> dict[str, Any] | None:
        rule = stack.rule(thresholds.GATEWAY_DOWN.alert)
        if rule is None or not rule.get("lastEvaluation"):
            return None
        evaluated = calendar.timegm(time.strptime(rule["lastEvaluation"][:19], "%Y-%m-%dT%H:%M:%S"))
        return rule if evaluated >= seen_at + EVALUATIONS else None

    rule = wait_for("GatewayDown evaluated", evaluated_since, START_TIMEOUT, stack.logs)
    assert rule["health"] == "ok" and rule["state"] == "inactive" and rule["alerts"] == [], rule
    assert stack.query(f'ALERTS{{alertname="{thresholds.GATEWAY_DOWN.alert}"}}') == []


def check_inhibition(am_url: str) -> None:
    """The real Alertmanager applies the rendered inhibit rule: critical silences warning, same alert and instance."""
    base = {"alertname": "InhibitionProbe", "stack": "live", "environment": "live"}
    alerts = [
        {"labels": {**base, "severity": "critical", "instance": "a:1"}},
        {"labels": {**base, "severity": "warning", "instance": "a:1"}},
        {"labels": {**base, "severity": "warning", "instance": "b:1"}},
    ]
    requests.post(f"{am_url}/api/v2/alerts", json=alerts, timeout=5).raise_for_status()

    expected = {
        ("critical", "a:1"): "active",
        ("warning", "a:1"): "suppressed",
        ("warning", "b:1"): "active",
    }
    last: dict[tuple[str, str], str] = {}

    def states() -> dict[tuple[str, str], str] | None:
        nonlocal last
        r = requests.get(f"{am_url}/api/v2/alerts", params={"filter": 'alertname="InhibitionProbe"'}, timeout=5)
        last = {(a["labels"]["severity"], a["labels"]["instance"]): a["status"]["state"] for a in r.json()}
        # The inhibitor sees new alerts asynchronously: a warning can list as active for a moment
        # after the post. Wait (bounded) for the expected states, then compare what was seen last.
        return last if last == expected else None

    with contextlib.suppress(AssertionError):
        wait_for("the probe alerts in Alertmanager", states, START_TIMEOUT, lambda: "")
    assert last == expected


def firing_at_webhook(stack: LiveStack, alert: str, severity: str, after: float) -> list[dict[str, Any]]:
    """Every firing alert of this name and severity the webhook (/alerts) received since `after`."""
    with stack.receiver.lock:
        return [
            a
            for r in stack.receiver.received
            if r.path == "/alerts" and r.at >= after
            for a in r.body.get("alerts", [])
            if a["labels"].get("alertname") == alert
            and a["labels"].get("severity") == severity
            and a.get("status") == "firing"
        ]


def check_critical_inhibits_warning(stack: LiveStack, gw: GatewayDouble) -> None:
    """Past the critical threshold both tiers of HighQueueDepth fire in Prometheus; the webhook
    gets the critical and never the warning, which Alertmanager holds back (inhibit rule)."""
    name = DRIVEN_CRITICAL.alert
    jumped = time.monotonic()
    depth = DRIVEN_CRITICAL.value + 30
    gw.values.update({"friday_tasks_queue_depth": depth})
    wait_for(
        f"{name} critical firing at the webhook",
        lambda: firing_at_webhook(stack, name, DRIVEN_CRITICAL.severity, jumped),
        ALERT_TIMEOUT,
        stack.logs,
    )
    # Both tiers fire in Prometheus: the warning is there to be inhibited.
    firing = stack.query(f'ALERTS{{alertname="{name}", alertstate="firing"}}')
    assert sorted(a["metric"]["severity"] for a in firing) == ["critical", "warning"], firing

    def am_states() -> dict[str, dict[str, Any]] | None:
        r = requests.get(f"{stack.alertmanager}/api/v2/alerts", params={"filter": f'alertname="{name}"'}, timeout=5)
        r.raise_for_status()
        found = {a["labels"]["severity"]: a["status"] for a in r.json()}
        last.clear()
        last.update(found)
        # The inhibitor marks the warning asynchronously: wait (bounded) until it is not active.
        settled = set(found) == {"critical", "warning"} and found["warning"]["state"] != "active"
        return found if settled else None

    last: dict[str, dict[str, Any]] = {}
    with contextlib.suppress(AssertionError):
        wait_for(f"both tiers of {name} in Alertmanager", am_states, START_TIMEOUT, stack.logs)
    states = last
    assert set(states) == {"critical", "warning"}, states
    assert states["critical"]["state"] == "active", states
    assert states["warning"]["state"] == "suppressed", states
    assert states["warning"]["inhibitedBy"], states
    # A few more group intervals: a warning notification would have gone out by now.
    time.sleep(3 * float(localize.INTERVAL.rstrip("s")))
    [critical, *_] = firing_at_webhook(stack, name, DRIVEN_CRITICAL.severity, jumped)
    assert critical["labels"]["job"] == "gateway" and critical["labels"]["stack"] == "live"
    assert critical["annotations"]["runbook_url"] == runbook_url(name)
    assert critical["annotations"]["description"].startswith(f"{depth:g} tasks are queued")
    assert firing_at_webhook(stack, name, DRIVEN.severity, jumped) == []


def record_latency(latency: float, resolve_latency: float) -> dict[str, Any]:
    interval = float(localize.INTERVAL.rstrip("s"))
    for_s = float(localize.FOR_OVERRIDE.rstrip("s"))
    record: dict[str, Any] = {
        "alert": DRIVEN.alert,
        "for_s": for_s,
        "scrape_interval_s": interval,
        "evaluation_interval_s": interval,
        "group_wait_s": interval,
        # for + one scrape + one evaluation + group_wait: each stage waiting its full interval.
        "floor_s": for_s + 3 * interval,
        # Nothing can beat `for` + group_wait (scrape and evaluation may come right after the change).
        "minimum_s": for_s + interval,
        "detection_latency_s": round(latency, 2),
        "resolve_latency_s": round(resolve_latency, 2),
        "prometheus": "Debian 2.42",
        "alertmanager": "Debian 0.25",
    }
    print(f"\nalert pipeline: {json.dumps(record)}")
    (REPO_ROOT / "build/live").mkdir(parents=True, exist_ok=True)
    (REPO_ROOT / "build/live/alert-latency.json").write_text(json.dumps(record, indent=2) + "\n")
    return record


def evaluated_at(rule: dict[str, Any]) -> float:
    """A rule's lastEvaluation (RFC 3339, nanoseconds) as a Unix time to the second, 0 before the first."""
    if not rule.get("lastEvaluation") or rule["lastEvaluation"].startswith("0001"):
        return 0.0
    return float(calendar.timegm(time.strptime(rule["lastEvaluation"][:19], "%Y-%m-%dT%H:%M:%S")))


def alert_rules(stack: LiveStack) -> list[dict[str, Any]]:
    groups = requests.get(f"{stack.prometheus}/api/v1/rules", timeout=10).json()["data"]["groups"]
    return [r for g in groups for r in g["rules"] if r["type"] == "alerting"]


def test_idle_real_gateway_raises_no_alert_and_gateway_down_fires_when_it_stops(tmp_path: Path) -> None:
    """The real gateway 0.1.0, idle, behind the rendered monitoring: only the Watchdog fires, no other
    alert is even pending over IDLE_CYCLES evaluations of every rule; stopping it fires GatewayDown
    (its `for` shortened) at the webhook."""
    settings = live_settings()
    with RealGateway.start(tmp_path / "gateway", environment=settings.gateway_environment_value) as gw:
        key = gw.create_api_key("admin", name="metrics-auth")
        with live_stack(tmp_path, gw, key, shorten=thresholds.GATEWAY_DOWN.alert, data_dir=gw.data_dir) as stack:
            assert stack.original_for == thresholds.GATEWAY_DOWN.for_
            assert stack.jobs == {"gateway", "prometheus", "alertmanager", "backup"}
            # The real /metrics reached Prometheus: the gateway's own series, under the stack's labels.
            [uptime] = stack.query('friday_uptime_seconds{job="gateway"}')
            assert uptime["metric"]["environment"] == "live" and float(uptime["value"][1]) > 0
            names = {r["name"] for r in alert_rules(stack)}
            # Every rule of alerts/ but those of files this stack does not load (remote write: no targets).
            loaded = committed.stack_rule_files(settings)
            expected = {r.name for f in rules.RULE_FILES if f.path in loaded for r in f.rules}
            assert expected == names, "every rule of alerts/ the stack loads is loaded"
            assert rules.REMOTE_WRITE_RULES.path not in loaded
            # Before the first scrape of a target and the first backup, the absent() rules are
            # rightly pending (GatewayMetricsAbsent, BackupStale): watch from the first evaluation of
            # every rule after all targets are up and the backup service has made its backup.
            wait_for(
                "the first backup in Prometheus",
                lambda: stack.query(f"{LAST_SUCCESS} > 0"),
                START_TIMEOUT,
                stack.logs,
            )
            ready = time.time()
            wait_for(
                "every rule evaluated once the stack is ready",
                lambda: min(evaluated_at(r) for r in alert_rules(stack)) >= ready + 1,
                START_TIMEOUT,
                stack.logs,
            )
            watched_from = time.time()
            seen: set[tuple[str, str]] = set()

            def watched_long_enough() -> bool:
                alerts = stack.query('ALERTS{alertname!="Watchdog"}')
                seen.update((a["metric"]["alertname"], a["metric"]["alertstate"]) for a in alerts)
                evaluated = [evaluated_at(r) for r in alert_rules(stack)]
                return min(evaluated) >= watched_from + IDLE_CYCLES

            wait_for(f"{IDLE_CYCLES} evaluations of every rule", watched_long_enough, ALERT_TIMEOUT, stack.logs)
            assert seen == set(), f"alerts pending or firing on an idle real gateway: {sorted(seen)}"
            unhealthy = [(r["name"], r.get("lastError")) for r in alert_rules(stack) if r["health"] != "ok"]
            assert unhealthy == []
            assert [a["metric"]["alertname"] for a in stack.query('ALERTS{alertstate="firing"}')] == ["Watchdog"]
            assert stack.receiver.find("/alerts", "firing", thresholds.GATEWAY_DOWN.alert) is None

            stopped = time.monotonic()
            gw.stop()
            fired = wait_for(
                f"{thresholds.GATEWAY_DOWN.alert} firing at the webhook",
                lambda: stack.receiver.find("/alerts", "firing", thresholds.GATEWAY_DOWN.alert, stopped),
                ALERT_TIMEOUT,
                stack.logs,
            )
            [alert] = [a for a in fired.body["alerts"] if a["labels"]["alertname"] == thresholds.GATEWAY_DOWN.alert]
            assert alert["labels"]["severity"] == thresholds.GATEWAY_DOWN.severity
            assert alert["labels"]["job"] == "gateway" and alert["labels"]["stack"] == "live"
            assert alert["annotations"]["runbook_url"] == runbook_url(thresholds.GATEWAY_DOWN.alert)


def test_alert_fires_reaches_the_webhook_and_resolves(tmp_path: Path) -> None:
    """On the DOUBLE: the real gateway's queue depth cannot be set on demand, and this test drives it
    over the HighQueueDepth thresholds and back."""
    with GatewayDouble(token=TOKEN) as gw, live_stack(tmp_path, gw, TOKEN, shorten=DRIVEN.alert) as stack:
        assert stack.original_for == DRIVEN.for_
        # Every job of the rendered config that runs here; only Grafana (no binary) is dropped.
        assert stack.jobs == {"gateway", "prometheus", "alertmanager", "backup"}
        assert ("GET", "/metrics", 200) in gw.requests
        receiver = stack.receiver

        check_scrape_credential_reaches_the_gateway_as_x_api_key(stack, gw)
        check_metric_names_and_constants(stack, gw)
        check_inhibition(stack.alertmanager)
        check_backup_stale_is_silent(stack)

        # The Watchdog reaches the heartbeat receiver (and only that one).
        wait_for(
            "Watchdog at the heartbeat receiver",
            lambda: receiver.find("/heartbeat", "firing", thresholds.WATCHDOG.alert),
            ALERT_TIMEOUT,
            stack.logs,
        )
        assert receiver.find("/alerts", "firing", thresholds.WATCHDOG.alert) is None

        # Drive the queue depth over the threshold; measure until the webhook has it.
        assert receiver.find("/alerts", "firing", DRIVEN.alert) is None
        changed = time.monotonic()
        gw.values.update({"friday_tasks_queue_depth": DRIVEN.value + 30})
        fired = wait_for(
            f"{DRIVEN.alert} firing at the webhook",
            lambda: receiver.find("/alerts", "firing", DRIVEN.alert, changed),
            ALERT_TIMEOUT,
            stack.logs,
        )
        latency = fired.at - changed
        [alert] = [a for a in fired.body["alerts"] if a["labels"]["alertname"] == DRIVEN.alert]
        assert alert["labels"]["severity"] == DRIVEN.severity
        assert alert["labels"]["stack"] == "live" and alert["labels"]["environment"] == "live"
        assert alert["labels"]["job"] == "gateway"
        assert (
            alert["annotations"]["runbook_url"]
            == "https://github.com/maccracken/friday-infra/blob/main/docs/troubleshooting.md#highqueuedepth"
        )
        assert alert["annotations"]["description"].startswith(f"{DRIVEN.value + 30:g} tasks are queued")

        # Back under the threshold: the resolution reaches the webhook too.
        back = time.monotonic()
        gw.values.update({"friday_tasks_queue_depth": 0})
        resolved = wait_for(
            f"{DRIVEN.alert} resolved at the webhook",
            lambda: receiver.find("/alerts", "resolved", DRIVEN.alert, back),
            ALERT_TIMEOUT,
            stack.logs,
        )
        resolve_latency = resolved.at - back
        # Past the critical threshold: the critical reaches the webhook, the warning does not.
        check_critical_inhibits_warning(stack, gw)
        # No BackupStale reached Alertmanager during the whole run.
        assert receiver.find("/alerts", "firing", thresholds.BACKUP_STALE.alert) is None

    record = record_latency(latency, resolve_latency)
    # Far beyond the floor would mean something in the path waits needlessly.
    assert record["minimum_s"] <= latency < record["floor_s"] + 10, record
