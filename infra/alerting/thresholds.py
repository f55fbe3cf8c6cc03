"""Alert thresholds and `for` durations: the one place alerts, dashboards, docs and tests read them.

Fixed values come from the specification (seed Part 1.5). Values that differ per stack (the
memory limit the infrastructure sets, the daily cost budget) live in the stack settings instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.settings import gateway_cost


@dataclass(frozen=True)
class Threshold:
    alert: str
    value: float
    for_: str
    severity: str
    # The range of the rate()/increase() the alert judges, where it has one: dashboards that draw
    # the alert's expression use the same window.
    window: str | None = None


_UNITS = {"s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week"}


def in_words(duration: str | None) -> str:
    """A Prometheus duration of one unit in words, for alert descriptions: `5m` -> `5 minutes`."""
    if duration is None or duration[:-1] == "" or not duration[:-1].isdigit() or duration[-1] not in _UNITS:
        raise ValueError(f"not a one-unit duration: {duration!r}")
    count, unit = int(duration[:-1]), _UNITS[duration[-1]]
    return f"{count} {unit}" + ("" if count == 1 else "s")


# friday_tasks_success_rate below this, while tasks run.
HIGH_ERROR_RATE = Threshold("HighErrorRate", 0.9, "5m", "warning")
# Gateway memory / the memory limit the infrastructure set.
HIGH_MEMORY_USAGE = Threshold("HighMemoryUsage", 0.85, "10m", "warning")
# Critical tier of the same alert: at 95% of the limit an OOM kill is imminent, so a short `for`
# (2m) pages before it happens. Same alertname: Alertmanager's inhibit rule then silences the
# warning while the critical fires (infra/monitoring/alertmanager.py).
HIGH_MEMORY_USAGE_CRITICAL = Threshold("HighMemoryUsage", 0.95, "2m", "critical")
# rate(friday_auth_failures_total[5m]) above this (failures per second).
AUTH_BRUTE_FORCE = Threshold("AuthBruteForce", 1.0, "2m", "critical", window="5m")
# friday_audit_chain_valid equal to this.
AUDIT_CHAIN_BROKEN = Threshold("AuditChainBroken", 0.0, "1m", "critical")
# friday_tasks_queue_depth above this.
HIGH_QUEUE_DEPTH = Threshold("HighQueueDepth", 50.0, "5m", "warning")
# Critical tier of the same alert: four times the warning level, held as long. A queue that grew
# past 200 and stayed there for 5 minutes is not a burst the gateway works off: tasks wait
# minutes before they start and callers time out, so someone must act now (scale, shed load).
HIGH_QUEUE_DEPTH_CRITICAL = Threshold("HighQueueDepth", 200.0, "5m", "critical")

SEED_THRESHOLDS: tuple[Threshold, ...] = (
    HIGH_ERROR_RATE,
    HIGH_MEMORY_USAGE,
    AUTH_BRUTE_FORCE,
    AUDIT_CHAIN_BROKEN,
    HIGH_QUEUE_DEPTH,
)

# Alerts with a warning AND a critical tier under one alertname: (warning, critical).
TIERED: tuple[tuple[Threshold, Threshold], ...] = (
    (HIGH_MEMORY_USAGE, HIGH_MEMORY_USAGE_CRITICAL),
    (HIGH_QUEUE_DEPTH, HIGH_QUEUE_DEPTH_CRITICAL),
)

# --- Alerts beyond the seed (issue 3). Values here, expressions in infra/alerting/rules.py. ---

# up{job="gateway"} == this: Prometheus cannot scrape the gateway.
GATEWAY_DOWN = Threshold("GatewayDown", 0.0, "2m", "critical")
# scrape_duration_seconds of the gateway job / its scrape timeout above this. Every 0.1.0 /metrics
# call re-verifies the whole audit chain (about 15 us per entry): the duration grows with the
# audit log, so warning at half the timeout leaves weeks to act before scrapes time out. The same
# share as GatewayAuditLogLarge's warning: where the timeout is what limits the audit log, both
# warn at the same size (infra/settings/gateway_cost.py).
GATEWAY_SCRAPE_SLOW = Threshold("GatewayScrapeSlow", gateway_cost.AUDIT_WARNING_SHARE, "15m", "warning")
# friday_audit_entries_total / the stack's audit capacity (the entries at which a scrape reaches the
# scrape timeout or the gateway's memory its limit, whichever comes first; gateway_cost.py) above
# this. The count only grows: the `for` just rides out a scrape that failed.
GATEWAY_AUDIT_LOG_LARGE = Threshold("GatewayAuditLogLarge", gateway_cost.AUDIT_WARNING_SHARE, "15m", "warning")
# Critical tier: the last stretch before the gateway is killed for memory or every scrape fails.
GATEWAY_AUDIT_LOG_LARGE_CRITICAL = Threshold(
    "GatewayAuditLogLarge", gateway_cost.AUDIT_CRITICAL_SHARE, "5m", "critical"
)
# No gateway target, or a scrape without the gateway's own metrics (wrong path, proxy page...).
GATEWAY_METRICS_ABSENT = Threshold("GatewayMetricsAbsent", 0.0, "5m", "warning")
# rate(friday_api_errors_total) / rate(friday_api_calls_total) above this over 10 minutes.
API_ERROR_RATIO = Threshold("ApiErrorRatioHigh", 0.1, "10m", "warning", window="10m")
# friday_cost_usd_today / the stack's costBudgetUsdDaily above this.
DAILY_COST_OVER_BUDGET = Threshold("DailyCostOverBudget", 1.0, "5m", "warning")
# rate(friday_rate_limit_hits_total[5m]) above this (hits per second; 0.5/s = 30 per minute).
RATE_LIMIT_SPIKE = Threshold("RateLimitSpike", 0.5, "5m", "warning", window="5m")
# increase(prometheus_rule_evaluation_failures_total[5m]) above this.
PROMETHEUS_RULE_FAILURES = Threshold("PrometheusRuleEvaluationFailures", 0.0, "5m", "critical", window="5m")
# prometheus_config_last_reload_successful equal to this.
PROMETHEUS_CONFIG_RELOAD_FAILED = Threshold("PrometheusConfigReloadFailed", 0.0, "5m", "warning")
# increase(alertmanager_notifications_failed_total[5m]) above this.
ALERTMANAGER_NOTIFICATIONS_FAILING = Threshold("AlertmanagerNotificationsFailing", 0.0, "5m", "critical", window="5m")
# alertmanager_config_last_reload_successful equal to this.
ALERTMANAGER_CONFIG_RELOAD_FAILED = Threshold("AlertmanagerConfigReloadFailed", 0.0, "5m", "warning")
# up == this for any other monitored service.
TARGET_DOWN = Threshold("TargetDown", 0.0, "5m", "warning")
# (now - the newest complete backup) / the stack's backupStaleAfterHours above this; or no
# backup metrics at all.
BACKUP_STALE = Threshold("BackupStale", 1.0, "10m", "warning")
# (now - the newest off-host copy) / the stack's off-host limit (backupOffsiteStaleAfterHours, default
# twice the interval plus one) above this. Only where off-host copies are on: the tool exposes the
# metric only then, so there is no absent() clause.
BACKUP_OFFSITE_STALE = Threshold("BackupOffsiteStale", 1.0, "10m", "warning")
# A remote-write target (remoteWrite) failing or falling behind: samples failed or retried (any, for
# 15 minutes), or the newest sample sent older than the newest sample appended by more than this many
# seconds. Only stacks with remote-write targets load the rule (Prometheus exposes the series only then).
REMOTE_WRITE_FAILING = Threshold("RemoteWriteFailing", 120.0, "15m", "warning", window="5m")
# Always firing: proves the whole path Prometheus -> Alertmanager -> heartbeat receiver works.
WATCHDOG = Threshold("Watchdog", 1.0, "0m", "none")

# --- Outside-in probes and the availability SLO (issue 16). ---

# probe_success == this, for a probe other than the WebSocket ones (infra/stack/blackbox.py).
PROBE_FAILING = Threshold("ProbeFailing", 0.0, "5m", "warning")
# probe_success == this for a WebSocket probe: /ws/metrics does not upgrade.
WEBSOCKET_NOT_UPGRADING = Threshold("WebSocketNotUpgrading", 0.0, "5m", "warning")
# (certificate expiry - now) / the stack's limit below this: certExpiryWarningDays for the
# warning, certExpiryCriticalDays for the critical tier (per-stack constants). A slow signal:
# the `for` only rides out a probe that reads a stale certificate during a reload.
CERT_EXPIRING = Threshold("CertificateExpiring", 1.0, "30m", "warning")
CERT_EXPIRING_CRITICAL = Threshold("CertificateExpiring", 1.0, "10m", "critical")
# Burn-rate alerts of the availability SLO (infra/alerting/slo.py). Each compares the burn rate
# over a long and a short window with the tier's burn-rate threshold, a per-stack constant
# derived from the SLO's window; the expressions divide by it, so 1.0 means "at the threshold".
ERROR_BUDGET_BURN_FAST = Threshold("ErrorBudgetBurnFast", 1.0, "2m", "critical")
ERROR_BUDGET_BURN_SLOW = Threshold("ErrorBudgetBurnSlow", 1.0, "15m", "warning")

TIERED += ((CERT_EXPIRING, CERT_EXPIRING_CRITICAL), (GATEWAY_AUDIT_LOG_LARGE, GATEWAY_AUDIT_LOG_LARGE_CRITICAL))
