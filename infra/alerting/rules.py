"""The alert rules as data: what the committed `alerts/*.yml` files hold (infra/alerting/committed.py
writes them; the per-stack constants they join against are infra/alerting/stack_constants.py).

`alerts/*.yml` are static: the same for every stack, loaded by Prometheus as they are, and
regenerated from this module by `python -m infra generate` (a test fails on drift). Thresholds
and `for` come from `infra.alerting.thresholds`. What differs per stack (the memory limit the
infrastructure sets, the daily cost budget, the backup age limit) is not in them: each stack gets a small generated
recording-rule file of constants (infra/alerting/stack_constants.py) and the static rules join against those
series with `on() group_left()` (the constants carry no labels, so the join works whatever
labels the gateway's series have).

Pure data: no I/O, no Pulumi.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from infra.alerting import slo
from infra.alerting import thresholds as t
from infra.alerting.runbooks import runbook_url
from infra.alerting.stack_constants import (
    BACKUP_OFFSITE_STALE_AFTER_SECONDS,
    BACKUP_STALE_AFTER_SECONDS,
    CERT_EXPIRY_CRITICAL_SECONDS,
    CERT_EXPIRY_WARNING_SECONDS,
    COST_BUDGET_USD_DAILY,
    GATEWAY_AUDIT_CAPACITY,
    GATEWAY_SCRAPE_TIMEOUT_SECONDS,
    MEMORY_LIMIT_MB,
)
from infra.alerting.stack_constants import promql_number as _n
from infra.backup.metrics import LAST_SUCCESS as BACKUP_LAST_SUCCESS
from infra.backup.metrics import OFFSITE_LAST_SUCCESS as BACKUP_OFFSITE_LAST_SUCCESS
from infra.metrics import jobs
from infra.metrics.probes import PROBE_HTTPS, PROBE_LABEL, WEBSOCKET_PROBES

# The runbooks: one section per alert in this file of the repository. Alerts link to it at the
# same address as the dashboards' panel links (infra/alerting/runbooks.py, one place to change).
RUNBOOK_DOC = "docs/troubleshooting.md"
RUNBOOK_HEADING = "## Alert runbooks"

GATEWAY_JOB = jobs.GATEWAY


def gateway_memory_mb(selector: str = "") -> str:
    """The gateway memory HighMemoryUsage judges, in MiB: the process RSS, which is what the
    container limit counts (gateway 0.1.0's friday_memory_used_mb is the JavaScript heap only,
    a fraction of the RSS), else friday_memory_used_mb where no RSS is exposed."""
    sel = f"{{{selector}}}" if selector else ""
    return f"(process_rss_bytes{sel} / 1048576 or friday_memory_used_mb{sel})"


@dataclass(frozen=True)
class AlertRule:
    threshold: t.Threshold
    expr: str
    summary: str
    description: str
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.threshold.alert

    def as_rule(self) -> dict[str, Any]:
        rule: dict[str, Any] = {"alert": self.name, "expr": self.expr.strip()}
        if self.threshold.for_ not in ("0", "0s", "0m"):
            rule["for"] = self.threshold.for_
        rule["labels"] = {"severity": self.threshold.severity, **self.labels}
        rule["annotations"] = {
            "summary": self.summary,
            "description": self.description,
            "runbook_url": runbook_url(self.name),
        }
        return rule


@dataclass(frozen=True)
class RuleFile:
    path: str  # relative to the repository root
    group: str
    about: str
    rules: tuple[AlertRule, ...]
    # Recording rules evaluated before the alerts of the same group (a group runs in order).
    records: tuple[dict[str, str], ...] = ()


_GW = f'job="{GATEWAY_JOB}"'

# Tier order: a tiered alert's critical rule comes before its warning rule in the group. Why: Prometheus
# evaluates a group's rules one after the other and hands each rule's alerts to its notifier as it
# goes; Alertmanager decides inhibition when it flushes an aggregation group, against the alerts
# its inhibitor has seen by then. The warning and the critical travel different routes (different
# aggregation groups), and a route's group that has notified before flushes new alerts at its next
# group_interval tick, without group_wait. So when both tiers start firing in the same evaluation
# and the warning arrives first, a tick that falls between the two arrivals sends the warning
# un-inhibited (the live test saw it once in seven runs on a loaded machine; a warning posted
# 300 ms before its critical leaked 8 times of 8, the critical first 0 of 8). With the critical
# evaluated first it reaches Alertmanager no later than its warning, and the warning is muted.

GATEWAY_RULES = RuleFile(
    "alerts/gateway.yml",
    "friday-gateway",
    "The gateway: the specification's five alerts, availability, API errors, cost, rate limiting.",
    (
        AlertRule(
            t.HIGH_ERROR_RATE,
            # success_rate is 0 (not 1) while no task has run: only judge it once tasks exist.
            f"friday_tasks_success_rate < {_n(t.HIGH_ERROR_RATE.value)}\n"
            "and on(job, instance) friday_tasks_total > 0\n",
            "Gateway task success rate is low",
            "Task success rate on {{ $labels.instance }} is {{ $value | humanizePercentage }}, "
            f"below {_n(t.HIGH_ERROR_RATE.value * 100)}% for {t.HIGH_ERROR_RATE.for_}.",
        ),
        *(
            AlertRule(
                tier,
                # The 0.1.0 gateway exposes no friday_memory_limit_mb: use the limit the stack sets.
                f"{gateway_memory_mb()}\n/ on() group_left() {MEMORY_LIMIT_MB} > {_n(tier.value)}\n",
                summary,
                "The gateway on {{ $labels.instance }} uses {{ $value | humanizePercentage }} of the memory "
                f"limit the stack sets (gatewayMemoryMb) for {tier.for_}.",
            )
            # Critical before warning: see the tier order note above.
            for tier, summary in (
                (t.HIGH_MEMORY_USAGE_CRITICAL, "Gateway memory at its limit: OOM kill imminent"),
                (t.HIGH_MEMORY_USAGE, "Gateway memory close to its limit"),
            )
        ),
        AlertRule(
            t.AUTH_BRUTE_FORCE,
            f"rate(friday_auth_failures_total[{t.AUTH_BRUTE_FORCE.window}]) > {_n(t.AUTH_BRUTE_FORCE.value)}\n",
            "Many failed logins on the gateway",
            '{{ $labels.instance }} sees {{ printf "%.2f" $value }} failed auth attempts per second '
            f"(more than {_n(t.AUTH_BRUTE_FORCE.value)}/s for {t.AUTH_BRUTE_FORCE.for_}).",
        ),
        AlertRule(
            t.AUDIT_CHAIN_BROKEN,
            f"friday_audit_chain_valid == {_n(t.AUDIT_CHAIN_BROKEN.value)}\n",
            "Gateway audit chain integrity check failed",
            "The audit chain of {{ $labels.instance }} reports invalid for "
            f"{t.AUDIT_CHAIN_BROKEN.for_}: entries may have been altered or lost.",
        ),
        *(
            AlertRule(
                tier,
                f"friday_tasks_queue_depth > {_n(tier.value)}\n",
                summary,
                "{{ $value }} tasks are queued on {{ $labels.instance }} "
                f"(more than {_n(tier.value)} for {tier.for_}).",
            )
            # Critical before warning: see the tier order note above.
            for tier, summary in (
                (t.HIGH_QUEUE_DEPTH_CRITICAL, "Gateway task queue far behind: tasks wait minutes"),
                (t.HIGH_QUEUE_DEPTH, "Gateway task queue is backing up"),
            )
        ),
        AlertRule(
            t.GATEWAY_DOWN,
            f"up{{{_GW}}} == {_n(t.GATEWAY_DOWN.value)}\n",
            "Prometheus cannot scrape the gateway",
            "Scrapes of {{ $labels.instance }} have failed for "
            f"{t.GATEWAY_DOWN.for_}: the gateway is down, unreachable or refuses the metrics credential.",
        ),
        AlertRule(
            t.GATEWAY_SCRAPE_SLOW,
            f"scrape_duration_seconds{{{_GW}}}\n/ on() group_left() {GATEWAY_SCRAPE_TIMEOUT_SECONDS}"
            f" > {_n(t.GATEWAY_SCRAPE_SLOW.value)}\n",
            "Scrapes of the gateway take a large share of their timeout",
            "A scrape of {{ $labels.instance }} takes {{ $value | humanizePercentage }} of the gateway job's "
            f"scrape timeout (gatewayScrapeTimeout) for {t.GATEWAY_SCRAPE_SLOW.for_}: /metrics re-verifies the "
            "whole audit chain, so it slows as the audit log grows; past the timeout every scrape fails.",
        ),
        *(
            AlertRule(
                tier,
                f"friday_audit_entries_total\n/ on() group_left() {GATEWAY_AUDIT_CAPACITY} > {_n(tier.value)}\n",
                summary,
                "The audit log of {{ $labels.instance }} holds {{ $value | humanizePercentage }} of the entries the "
                "stack's scrape timeout and memory limit allow (gatewayScrapeTimeout, gatewayMemoryMb). Every "
                "/metrics call re-verifies the whole log: the scrape slows and the gateway's memory grows with it; "
                "at 100% every scrape fails or the gateway is killed for memory.",
            )
            # Critical before warning: see the tier order note above.
            for tier, summary in (
                (
                    t.GATEWAY_AUDIT_LOG_LARGE_CRITICAL,
                    "Gateway audit log close to what its memory limit and scrape timeout allow",
                ),
                (t.GATEWAY_AUDIT_LOG_LARGE, "Gateway audit log past half of what the stack allows"),
            )
        ),
        AlertRule(
            t.GATEWAY_METRICS_ABSENT,
            # No gateway target at all, or a successful scrape without the gateway's metrics.
            f"absent(up{{{_GW}}})\nor (up{{{_GW}}} == 1 unless on(job, instance) friday_uptime_seconds)\n",
            "Gateway metrics are missing",
            f"No gateway metrics for {t.GATEWAY_METRICS_ABSENT.for_}: either Prometheus has no gateway "
            "target, or the scrape succeeds but carries none of the gateway's friday_* series.",
        ),
        AlertRule(
            t.API_ERROR_RATIO,
            f"rate(friday_api_errors_total[{t.API_ERROR_RATIO.window}])\n"
            f"/ rate(friday_api_calls_total[{t.API_ERROR_RATIO.window}]) > {_n(t.API_ERROR_RATIO.value)}\n",
            "Many AI provider API calls fail",
            "{{ $value | humanizePercentage }} of AI API calls from {{ $labels.instance }} fail "
            f"(more than {_n(t.API_ERROR_RATIO.value * 100)}% for {t.API_ERROR_RATIO.for_}).",
        ),
        AlertRule(
            t.DAILY_COST_OVER_BUDGET,
            f"friday_cost_usd_today / on() group_left() {COST_BUDGET_USD_DAILY}"
            f" > {_n(t.DAILY_COST_OVER_BUDGET.value)}\n",
            "Today's AI cost is over the daily budget",
            "Today's AI cost on {{ $labels.instance }} is {{ $value | humanizePercentage }} of the "
            "stack's daily budget (costBudgetUsdDaily).",
        ),
        AlertRule(
            t.RATE_LIMIT_SPIKE,
            f"rate(friday_rate_limit_hits_total[{t.RATE_LIMIT_SPIKE.window}]) > {_n(t.RATE_LIMIT_SPIKE.value)}\n",
            "Gateway rate limiting many requests",
            '{{ $labels.instance }} rate-limits {{ printf "%.2f" $value }} requests per second '
            f"(more than {_n(t.RATE_LIMIT_SPIKE.value)}/s for {t.RATE_LIMIT_SPIKE.for_}).",
        ),
    ),
)

MONITORING_RULES = RuleFile(
    "alerts/monitoring.yml",
    "friday-monitoring",
    "The monitoring itself: Prometheus, Alertmanager, every scrape target, and the Watchdog.",
    (
        AlertRule(
            t.PROMETHEUS_RULE_FAILURES,
            f"increase(prometheus_rule_evaluation_failures_total[{t.PROMETHEUS_RULE_FAILURES.window}])"
            f" > {_n(t.PROMETHEUS_RULE_FAILURES.value)}\n",
            "Prometheus fails to evaluate rules",
            "Rule group {{ $labels.rule_group }} failed {{ $value | humanize }} evaluations in "
            f"{t.in_words(t.PROMETHEUS_RULE_FAILURES.window)}: alerts from it may be silently missing.",
        ),
        AlertRule(
            t.PROMETHEUS_CONFIG_RELOAD_FAILED,
            f"prometheus_config_last_reload_successful == {_n(t.PROMETHEUS_CONFIG_RELOAD_FAILED.value)}\n",
            "Prometheus configuration reload failed",
            "Prometheus on {{ $labels.instance }} runs an older configuration: its last reload failed.",
        ),
        AlertRule(
            t.ALERTMANAGER_NOTIFICATIONS_FAILING,
            f"increase(alertmanager_notifications_failed_total[{t.ALERTMANAGER_NOTIFICATIONS_FAILING.window}])"
            f" > {_n(t.ALERTMANAGER_NOTIFICATIONS_FAILING.value)}\n",
            "Alertmanager cannot deliver notifications",
            "{{ $value | humanize }} notifications through the {{ $labels.integration }} integration failed "
            f"in {t.in_words(t.ALERTMANAGER_NOTIFICATIONS_FAILING.window)} on {{{{ $labels.instance }}}}.",
        ),
        AlertRule(
            t.ALERTMANAGER_CONFIG_RELOAD_FAILED,
            f"alertmanager_config_last_reload_successful == {_n(t.ALERTMANAGER_CONFIG_RELOAD_FAILED.value)}\n",
            "Alertmanager configuration reload failed",
            "Alertmanager on {{ $labels.instance }} runs an older configuration: its last reload failed.",
        ),
        AlertRule(
            t.TARGET_DOWN,
            # The gateway has its own, critical GatewayDown.
            f'up{{job!="{GATEWAY_JOB}"}} == {_n(t.TARGET_DOWN.value)}\n',
            "A monitored service cannot be scraped",
            "Prometheus has failed to scrape {{ $labels.job }} at {{ $labels.instance }} for "
            f"{t.TARGET_DOWN.for_}.",
        ),
        AlertRule(
            t.WATCHDOG,
            "vector(1)\n",
            "Always firing: the alerting pipeline works",
            "This alert always fires. It is routed to the heartbeat receiver; when the heartbeat "
            "stops arriving, Prometheus, Alertmanager or the path between them is broken.",
        ),
    ),
)

BACKUP_RULES = RuleFile(
    "alerts/backups.yml",
    "friday-backups",
    "The backups of the gateway databases (infra/backup): the newest complete backup is recent enough.",
    (
        AlertRule(
            t.BACKUP_STALE,
            # max(): one age however many exporters report the same backups (HTTP and textfile);
            # absent(): no backup metrics at all (service stopped, never deployed, not scraped)
            # must not read as "backups are fine". A last success of 0 (no backup yet) is stale.
            f"(time() - max({BACKUP_LAST_SUCCESS}))\n"
            f"/ on() group_left() {BACKUP_STALE_AFTER_SECONDS} > {_n(t.BACKUP_STALE.value)}\n"
            f"or absent({BACKUP_LAST_SUCCESS})\n",
            "The gateway databases have no recent backup",
            "The newest complete backup of the gateway databases is older than the stack allows "
            f"(backupStaleAfterHours), or Prometheus scrapes no backup metrics at all, for {t.BACKUP_STALE.for_}. "
            "A restore now would lose everything written since the newest backup.",
        ),
        AlertRule(
            t.BACKUP_OFFSITE_STALE,
            # Exposed only where off-host copies are on; 0 (none yet) is stale.
            f"(time() - max({BACKUP_OFFSITE_LAST_SUCCESS}))\n"
            f"/ on() group_left() {BACKUP_OFFSITE_STALE_AFTER_SECONDS} > {_n(t.BACKUP_OFFSITE_STALE.value)}\n",
            "The gateway databases have no recent off-host copy",
            "The newest off-host copy (restic snapshot in the object store) of the gateway databases is older "
            f"than the stack allows (backupOffsiteStaleAfterHours) for {t.BACKUP_OFFSITE_STALE.for_}. "
            "Losing this host now would lose everything written since that copy.",
        ),
    ),
)

_RW = "remote_name, url"
_RW_WINDOW = t.REMOTE_WRITE_FAILING.window

# Loaded only by a stack with remote-write targets (committed.stack_rule_files): without them
# Prometheus has no queue and no series to judge.
REMOTE_WRITE_RULES = RuleFile(
    "alerts/remote-write.yml",
    "friday-remote-write",
    "Remote write (remoteWrite): every configured target receives the samples, without failures or lag.",
    (
        AlertRule(
            t.REMOTE_WRITE_FAILING,
            # Failed: refused for good (HTTP 4xx such as a wrong credential; dropped). Retried: a
            # recoverable error (5xx, 429, connection refused; kept and resent). Behind: the newest
            # sample sent is older than the newest appended (only once a send ever succeeded).
            f"sum by ({_RW}) (rate(prometheus_remote_storage_samples_failed_total[{_RW_WINDOW}])) > 0\n"
            f"or sum by ({_RW}) (rate(prometheus_remote_storage_samples_retried_total[{_RW_WINDOW}])) > 0\n"
            f"or max by ({_RW}) (\n"
            "  prometheus_remote_storage_highest_timestamp_in_seconds\n"
            f"  - ignoring({_RW}) group_right prometheus_remote_storage_queue_highest_sent_timestamp_seconds\n"
            f") > {_n(t.REMOTE_WRITE_FAILING.value)}\n",
            "A remote-write target does not get the samples",
            "Remote write to {{ $labels.remote_name }} ({{ $labels.url }}) has been failing or retrying samples "
            f"(their rate over {t.in_words(_RW_WINDOW)} above zero), or lagging more than "
            f"{_n(t.REMOTE_WRITE_FAILING.value)} seconds behind, for {t.REMOTE_WRITE_FAILING.for_}: "
            "the central store misses this stack's newest series.",
        ),
    ),
)

_WS = "|".join(WEBSOCKET_PROBES)

PROBE_RULES = RuleFile(
    "alerts/probes.yml",
    "friday-probes",
    "Outside-in probes (blackbox exporter, infra/stack/blackbox.py): what a client of the gateway sees.",
    (
        AlertRule(
            t.PROBE_FAILING,
            f'probe_success{{{PROBE_LABEL}!~"{_WS}"}} == {_n(t.PROBE_FAILING.value)}\n',
            "A probe of the gateway fails",
            "The {{ $labels.probe }} probe of {{ $labels.instance }} has failed for "
            f"{t.PROBE_FAILING.for_}: clients taking that path get an error, a wrong answer or no answer.",
        ),
        AlertRule(
            t.WEBSOCKET_NOT_UPGRADING,
            f'probe_success{{{PROBE_LABEL}=~"{_WS}"}} == {_n(t.WEBSOCKET_NOT_UPGRADING.value)}\n',
            "The gateway's WebSocket does not upgrade",
            "The {{ $labels.probe }} probe of {{ $labels.instance }} has failed for "
            f"{t.WEBSOCKET_NOT_UPGRADING.for_}: /ws/metrics does not switch protocols, so live metrics "
            "clients (dashboards, the UI) get nothing.",
        ),
        *(
            AlertRule(
                tier,
                # Days left over the stack's limit; only the public HTTPS probe reports the certificate
                # once (other probes of the same endpoint would repeat the alert).
                f'(probe_ssl_earliest_cert_expiry{{{PROBE_LABEL}="{PROBE_HTTPS}"}} - time())\n'
                f"/ on() group_left() {constant} < {_n(tier.value)}\n",
                summary,
                "The TLS certificate served at {{ $labels.instance }} expires sooner than the stack's "
                f"{setting} allows: {{{{ $value | humanizePercentage }}}} of that time is left. Renew and deploy "
                "it before clients refuse the connection.",
            )
            # Critical before warning: see the tier order note above.
            for tier, constant, setting, summary in (
                (
                    t.CERT_EXPIRING_CRITICAL,
                    CERT_EXPIRY_CRITICAL_SECONDS,
                    "certExpiryCriticalDays",
                    "The proxy's TLS certificate expires within days",
                ),
                (
                    t.CERT_EXPIRING,
                    CERT_EXPIRY_WARNING_SECONDS,
                    "certExpiryWarningDays",
                    "The proxy's TLS certificate expires within weeks",
                ),
            )
        ),
    ),
)

SLO_RULES = RuleFile(
    "alerts/slo.yml",
    "friday-slo-availability",
    "The gateway's availability SLO (infra/alerting/slo.py): SLI, error ratios and burn rates, burn-rate alerts.",
    tuple(
        AlertRule(
            burn.threshold,
            slo.alert_expr(burn),
            f"The gateway's availability error budget is burning fast ({burn.action})"
            if burn is slo.PAGE
            else f"The gateway's availability error budget is burning ({burn.action})",
            "At the current error ratio the gateway spends its availability error budget "
            '{{ $value | printf "%.1f" }} times faster than this tier allows ('
            + "; ".join(
                f"{p.long}/{p.short} windows: {p.budget_share:.0%} of the budget in {p.long}" for p in burn.pairs
            )
            + "). The objective is sloAvailabilityObjective over sloWindowDays.",
        )
        for burn in slo.BURN_ALERTS
    ),
    records=tuple(slo.recording_rules()),
)

RULE_FILES: tuple[RuleFile, ...] = (
    GATEWAY_RULES,
    MONITORING_RULES,
    BACKUP_RULES,
    PROBE_RULES,
    SLO_RULES,
    REMOTE_WRITE_RULES,
)
ALERTS: tuple[AlertRule, ...] = tuple(r for f in RULE_FILES for r in f.rules)
