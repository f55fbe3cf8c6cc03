"""Recording rules the dashboards read: per environment and job aggregates, evaluated once a minute.

Why: a Prometheus range query costs about the same per selected series whatever its step, so a
panel drawing one line per gateway instance costs ten times as much at ten gateways, and a
30-day view reads every raw 15 s sample of every instance. The dashboards' time series panels
read these aggregates instead: one series per environment and job (per status, quantile,
integration... where the panel splits by it), one sample a minute (the group's interval), so a
refresh costs the same at 1 or 10 gateways and a quarter of the raw samples. `make bench`
(infra/bench) measures it; docs/performance.md has the figures.

Names follow Prometheus' `level:metric:operations` convention: the level is the labels kept
(`environment_job`), the metric loses `_total`, the operations say what was done
(`rate5m`, `max`, `max_rate10m`...). Each rule has a promtool unit test in
alerts/tests/dashboards_test.yml (a test checks that none is missing).

Where the panel used to draw one line per instance, the aggregate is the one that answers the
panel's question for the whole environment: `max` where an alert judges each instance against a
threshold (the worst instance is the one that fires), `min` for a success rate, `sum` for
throughput and counts. Rates use a 5 minute window, or the window of the alert the panel draws.

Pure data: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from infra.alerting import thresholds as t
from infra.alerting.rules import gateway_memory_mb
from infra.yamlio import dump_readable

# Labels every aggregate keeps. `environment` is kept where the series carry it (a central
# Prometheus, or a stack that stores it as a target label); elsewhere it is simply absent.
LEVEL = ("environment", "job")
PATH = "alerts/dashboards.yml"
GROUP = "friday-dashboards"
# One sample a minute: a quarter of the raw samples at the default 15 s scrape interval, and the
# panels' minimum interval (infra/dashboards), so Grafana never asks for finer steps than exist.
INTERVAL = "1m"
RATE_WINDOW = "5m"


@dataclass(frozen=True)
class RecordingRule:
    record: str
    expr: str

    def as_rule(self) -> dict[str, Any]:
        return {"record": self.record, "expr": self.expr}


def _level(extra: tuple[str, ...]) -> tuple[str, str]:
    labels = (*LEVEL, *extra)
    return "_".join(labels), ", ".join(labels)


def aggregate(op: str, metric: str, *by: str, name: str | None = None, expr: str | None = None) -> RecordingRule:
    """`op by (environment, job, *by) (metric)`, recorded as `<level>:<name or metric>:<op>`."""
    level, labels = _level(by)
    return RecordingRule(f"{level}:{name or metric}:{op}", f"{op} by ({labels}) ({expr or metric})")


def rate(op: str, counter: str, *by: str, window: str = RATE_WINDOW) -> RecordingRule:
    """`op by (...) (rate(counter[window]))`; `sum` is the default operation and is not named."""
    level, labels = _level(by)
    ops = f"rate{window}" if op == "sum" else f"{op}_rate{window}"
    return RecordingRule(
        f"{level}:{counter.removesuffix('_total')}:{ops}", f"{op} by ({labels}) (rate({counter}[{window}]))"
    )


# --- the gateway dashboard ----------------------------------------------------------------
CPU = aggregate("max", "friday_cpu_percent")
MEMORY_MB = aggregate("max", "friday_memory_mb", expr=gateway_memory_mb())  # what HighMemoryUsage judges
RSS = aggregate("max", "process_rss_bytes")
HEAP = aggregate("max", "process_heap_bytes")
TASKS = rate("sum", "friday_tasks_total")
SUCCESS_RATE = aggregate("min", "friday_tasks_success_rate")
QUEUE_DEPTH = aggregate("max", "friday_tasks_queue_depth")
IN_PROGRESS = aggregate("sum", "friday_tasks_in_progress")
DURATION = aggregate("max", "friday_tasks_duration_ms", "quantile")
AVG_DURATION = aggregate("max", "friday_tasks_avg_duration_ms")
BY_STATUS = aggregate("sum", "friday_tasks_by_status", "status")
TOKENS = aggregate("sum", "friday_tokens_used_today")
COST = aggregate("sum", "friday_cost_usd_today")
COST_MAX = aggregate("max", "friday_cost_usd_today")
AUTH_ATTEMPTS = rate("sum", "friday_auth_attempts_total")
AUTH_FAILURES = rate("sum", "friday_auth_failures_total")
# AuthBruteForce judges each instance's rate over its window: the worst instance.
AUTH_FAILURES_MAX = rate("max", "friday_auth_failures_total", window=t.AUTH_BRUTE_FORCE.window or RATE_WINDOW)
LOGINS = rate("sum", "friday_auth_success_total")
SESSIONS = aggregate("sum", "friday_active_sessions")
BLOCKED = rate("sum", "friday_blocked_requests_total")
RATE_LIMITED = rate("sum", "friday_rate_limit_hits_total")
INJECTIONS = rate("sum", "friday_injection_attempts_total")
AUDIT_ENTRIES = rate("sum", "friday_audit_entries_total")
API_CALLS = rate("sum", "friday_api_calls_total")
API_ERRORS = rate("sum", "friday_api_errors_total")
_API_WINDOW = t.API_ERROR_RATIO.window or RATE_WINDOW
# ApiErrorRatioHigh judges each instance's ratio over its window: the worst instance.
API_ERROR_RATIO = aggregate(
    "max",
    "friday_api_error_ratio",
    name=f"friday_api_error_ratio_{_API_WINDOW}",
    expr=f"rate(friday_api_errors_total[{_API_WINDOW}]) / rate(friday_api_calls_total[{_API_WINDOW}])",
)
API_LATENCY = aggregate("max", "friday_api_latency_avg_ms")

# --- the monitoring stack dashboard -------------------------------------------------------
SCRAPE_DURATION = aggregate("max", "scrape_duration_seconds")
RULE_EVALUATIONS = rate("sum", "prometheus_rule_evaluations_total", "rule_group")
RULE_FAILURES = rate("sum", "prometheus_rule_evaluation_failures_total", "rule_group")
# Alertmanager reports every integration it knows (13 in 0.25), most of them unused by a stack: only
# those that delivered at least once since it started are recorded. Failures come per integration
# AND reason: summed over the reasons.
_IN_USE = (
    "and on (environment, job, integration) "
    "(sum by (environment, job, integration) (alertmanager_notifications_total) > 0)"
)


def _in_use(rule: RecordingRule) -> RecordingRule:
    return RecordingRule(rule.record, f"{rule.expr} {_IN_USE}")


AM_NOTIFICATIONS = _in_use(rate("sum", "alertmanager_notifications_total", "integration"))
AM_NOTIFICATIONS_FAILED = _in_use(rate("sum", "alertmanager_notifications_failed_total", "integration"))
SAMPLES_APPENDED = rate("sum", "prometheus_tsdb_head_samples_appended_total")
HEAD_SERIES = aggregate("max", "prometheus_tsdb_head_series")
RULE_GROUP_DURATION = aggregate("max", "prometheus_rule_group_last_duration_seconds", "rule_group")
NOTIFICATIONS_SENT = rate("sum", "prometheus_notifications_sent_total", "alertmanager")
NOTIFICATIONS_ERRORS = rate("sum", "prometheus_notifications_errors_total", "alertmanager")
NOTIFICATIONS_DROPPED = rate("sum", "prometheus_notifications_dropped_total")
AM_ALERTS = aggregate("sum", "alertmanager_alerts", "state")
ALLOY_COMPONENTS = aggregate("sum", "alloy_component_controller_running_components", "health_type")
LOKI_WRITE_SENT = rate("sum", "loki_write_sent_entries_total")
LOKI_WRITE_DROPPED = rate("sum", "loki_write_dropped_entries_total")
LOKI_LINES = rate("sum", "loki_distributor_lines_received_total")
LOKI_REQUESTS = rate("sum", "loki_request_duration_seconds_count", "status_code")

RULES: tuple[RecordingRule, ...] = (
    CPU,
    MEMORY_MB,
    RSS,
    HEAP,
    TASKS,
    SUCCESS_RATE,
    QUEUE_DEPTH,
    IN_PROGRESS,
    DURATION,
    AVG_DURATION,
    BY_STATUS,
    TOKENS,
    COST,
    COST_MAX,
    AUTH_ATTEMPTS,
    AUTH_FAILURES,
    AUTH_FAILURES_MAX,
    LOGINS,
    SESSIONS,
    BLOCKED,
    RATE_LIMITED,
    INJECTIONS,
    AUDIT_ENTRIES,
    API_CALLS,
    API_ERRORS,
    API_ERROR_RATIO,
    API_LATENCY,
    SCRAPE_DURATION,
    SAMPLES_APPENDED,
    HEAD_SERIES,
    RULE_EVALUATIONS,
    RULE_FAILURES,
    RULE_GROUP_DURATION,
    NOTIFICATIONS_SENT,
    NOTIFICATIONS_ERRORS,
    NOTIFICATIONS_DROPPED,
    AM_NOTIFICATIONS,
    AM_NOTIFICATIONS_FAILED,
    AM_ALERTS,
    LOKI_LINES,
    LOKI_REQUESTS,
    ALLOY_COMPONENTS,
    LOKI_WRITE_SENT,
    LOKI_WRITE_DROPPED,
)
BY_RECORD: dict[str, RecordingRule] = {r.record: r for r in RULES}


def file_text() -> str:
    """The committed alerts/dashboards.yml."""
    header = (
        "# Recording rules the dashboards read (per environment and job aggregates, once a minute).\n"
        "# Generated by `python -m infra generate` from infra/alerting/recording.py. Edit that, not this\n"
        "# file; a test fails on drift. Unit tests: alerts/tests/dashboards_test.yml (promtool test rules).\n"
    )
    group = {"name": GROUP, "interval": INTERVAL, "rules": [r.as_rule() for r in RULES]}
    return header + dump_readable({"groups": [group]})


_RECORDED = re.compile(r"(?<![\w:])[a-z_]+:[A-Za-z0-9_]+:[A-Za-z0-9_]+(?![\w:])")


def expand(expr: str) -> str:
    """expr with every recorded series of this module replaced by the expression it records:
    what the panel computes, for checks that look for raw metric names and windows."""

    def one(match: re.Match[str]) -> str:
        rule = BY_RECORD.get(match.group(0))
        return f"({rule.expr})" if rule else match.group(0)

    return _RECORDED.sub(one, expr)


def recorded_in(expr: str) -> set[str]:
    """The recording rules of this module an expression reads."""
    return {m for m in _RECORDED.findall(expr) if m in BY_RECORD}
