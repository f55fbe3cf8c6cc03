"""The monitoring stack's own dashboard: scrape targets, Prometheus, Alertmanager, backups, Loki, Alloy."""

from __future__ import annotations

from infra.alerting import recording as rec
from infra.alerting.stack_constants import BACKUP_OFFSITE_STALE_AFTER_SECONDS, BACKUP_STALE_AFTER_SECONDS
from infra.alerting.thresholds import (
    ALERTMANAGER_CONFIG_RELOAD_FAILED,
    ALERTMANAGER_NOTIFICATIONS_FAILING,
    BACKUP_OFFSITE_STALE,
    BACKUP_STALE,
    GATEWAY_DOWN,
    PROMETHEUS_CONFIG_RELOAD_FAILED,
    PROMETHEUS_RULE_FAILURES,
    REMOTE_WRITE_FAILING,
    TARGET_DOWN,
    Threshold,
)
from infra.backup.metrics import KEPT, LAST_SUCCESS, OFFSITE_FAILURES, OFFSITE_LAST_SUCCESS
from infra.dashboards import scope
from infra.dashboards.model import Dashboard, NoData, Panel, Query, Row, Step, Variable, needs_service

# Alertmanager's notification counters are recorded only for integrations in use (recording rules).
AM_NOTIFICATIONS_DATA_ONCE = "a receiver is configured (friday:alertReceivers) and has been notified"

UID = "friday-stack"

ENV = f'environment=~"$environment", {scope.STACK_MATCHER}'
# The monitoring components' own series (shared by every stack of a cluster; infra/dashboards/scope.py).
MONITORING_ENV = f'environment=~"$environment", {scope.MONITORING_MATCHER}'
_UP_TEXT = {1: ("up", "green"), 0: ("DOWN", "red")}
# Age of the newest complete backup (the BackupStale expression's numerator) and its limit.
BACKUP_AGE = f"time() - max({LAST_SUCCESS}{{{ENV}}})"
BACKUP_LIMIT = f"max({BACKUP_STALE_AFTER_SECONDS}{{{ENV}}})"
# The same for the off-host copies (BackupOffsiteStale); no data where they are off.
OFFSITE_AGE = f"time() - max({OFFSITE_LAST_SUCCESS}{{{ENV}}})"
OFFSITE_LIMIT = f"max({BACKUP_OFFSITE_STALE_AFTER_SECONDS}{{{ENV}}})"
OFFSITE_OFF = NoData(
    "service",
    "Needs off-host copies (friday:backupOffsiteEnabled, docs/backups.md#off-host-copies): empty where they are "
    "off, as in this repository's live dashboard test.",
)
# Remote write (RemoteWriteFailing): per target, the samples failed and retried and how far sending lags.
_RW_WINDOW = REMOTE_WRITE_FAILING.window
_RW_FAILED = f"rate(prometheus_remote_storage_samples_failed_total{{{MONITORING_ENV}}}[{_RW_WINDOW}])"
_RW_RETRIED = f"rate(prometheus_remote_storage_samples_retried_total{{{MONITORING_ENV}}}[{_RW_WINDOW}])"
REMOTE_WRITE_OFF = NoData(
    "service",
    "Needs remote-write targets (friday:remoteWrite, docs/monitoring.md#remote-write): empty without them, "
    "as in this repository's live dashboard test.",
)
# Panels reading recording rules (infra/alerting/recording.py) step no finer than their interval.
MIN_INTERVAL = rec.INTERVAL


def fleet(rule: rec.RecordingRule) -> str:
    """A recorded aggregate, narrowed to the chosen environment(s)."""
    return f"{rule.record}{{{ENV}}}"


def _reload_panel(title: str, metric: str, description: str, alert: Threshold) -> Panel:
    """A stat of a `*_config_last_reload_successful` gauge: ok (1) or FAILED (0)."""
    return Panel(
        title,
        "stat",
        (Query(f"{metric}{{{MONITORING_ENV}}}", "{{instance}}"),),
        description,
        steps=(Step(None, "red"), Step(1, "green")),
        value_text={1: ("ok", "green"), 0: ("FAILED", "red")},
        alerts=(alert,),
    )


TARGETS = Row(
    "Scrape targets",
    (
        Panel(
            "Targets up",
            "stat",
            (Query(f"up{{{ENV}}}", "{{job}} {{instance}}"),),
            "Every target Prometheus scrapes: up, or DOWN when the last scrape failed.",
            width=12,
            height=6,
            steps=(Step(None, "red"), Step(1, "green")),
            value_text=_UP_TEXT,
            alerts=(GATEWAY_DOWN, TARGET_DOWN),
        ),
        Panel(
            "Scrape duration",
            "timeseries",
            (Query(fleet(rec.SCRAPE_DURATION), "{{job}}"),),
            "How long scrapes took: the slowest target of each job.",
            unit="s",
            width=12,
            height=6,
            min=0,
            min_interval=MIN_INTERVAL,
        ),
    ),
)

PROMETHEUS = Row(
    "Prometheus",
    (
        Panel(
            "Samples ingested",
            "timeseries",
            (Query(fleet(rec.SAMPLES_APPENDED), "samples/s"),),
            "Samples appended to the TSDB head per second (5 minute rate).",
            min=0,
            min_interval=MIN_INTERVAL,
        ),
        Panel(
            "Head series",
            "timeseries",
            (Query(fleet(rec.HEAD_SERIES), "series"),),
            "Active series in the TSDB head.",
            min=0,
            min_interval=MIN_INTERVAL,
        ),
        _reload_panel(
            "Config reload",
            "prometheus_config_last_reload_successful",
            "Whether Prometheus loaded its last configuration (rules included).",
            PROMETHEUS_CONFIG_RELOAD_FAILED,
        ),
        Panel(
            "Rule evaluations",
            "timeseries",
            (
                Query(fleet(rec.RULE_EVALUATIONS), "{{rule_group}}"),
                Query(fleet(rec.RULE_FAILURES), "failed {{rule_group}}"),
            ),
            "Alerting and recording rule evaluations per second (5 minute rate), and failed ones.",
            width=12,
            alerts=(PROMETHEUS_RULE_FAILURES,),
            min=0,
            min_interval=MIN_INTERVAL,
        ),
        Panel(
            "Remote write failures and lag",
            "timeseries",
            (
                Query(
                    f"sum by (remote_name) ({_RW_FAILED})",
                    "failed/s {{remote_name}}",
                ),
                Query(
                    f"sum by (remote_name) ({_RW_RETRIED})",
                    "retried/s {{remote_name}}",
                ),
                Query(
                    f"max by (remote_name) (prometheus_remote_storage_highest_timestamp_in_seconds{{{MONITORING_ENV}}}"
                    " - ignoring(remote_name, url) group_right "
                    f"prometheus_remote_storage_queue_highest_sent_timestamp_seconds{{{MONITORING_ENV}}})",
                    "seconds behind {{remote_name}}",
                ),
            ),
            "Per remote-write target: samples refused for good (failed) and resent (retried) per second "
            f"({_RW_WINDOW} rate), and how many seconds the newest sample sent lags the newest appended. "
            f"RemoteWriteFailing fires after {REMOTE_WRITE_FAILING.for_} of any failed or retried samples or a lag "
            f"above {REMOTE_WRITE_FAILING.value:g} seconds.",
            width=12,
            alerts=(REMOTE_WRITE_FAILING,),
            min=0,
            no_data=REMOTE_WRITE_OFF,
        ),
        Panel(
            "Rule group duration",
            "timeseries",
            (Query(fleet(rec.RULE_GROUP_DURATION), "{{rule_group}}"),),
            "How long the last evaluation of each rule group took.",
            unit="s",
            width=12,
            min=0,
            min_interval=MIN_INTERVAL,
        ),
    ),
)

ALERTING = Row(
    "Alerting",
    (
        Panel(
            "Prometheus to Alertmanager",
            "timeseries",
            (
                Query(fleet(rec.NOTIFICATIONS_SENT), "sent {{alertmanager}}"),
                Query(fleet(rec.NOTIFICATIONS_ERRORS), "errors {{alertmanager}}"),
                Query(fleet(rec.NOTIFICATIONS_DROPPED), "dropped"),
            ),
            "Alert notifications Prometheus sent to Alertmanager per second, failed and dropped (5 minute rate).",
            min=0,
            min_interval=MIN_INTERVAL,
        ),
        Panel(
            "Alertmanagers discovered",
            "stat",
            (Query(f"prometheus_notifications_alertmanagers_discovered{{{MONITORING_ENV}}}", "{{instance}}"),),
            "Alertmanagers Prometheus sends alerts to; 0 means alerts go nowhere.",
            steps=(Step(None, "red"), Step(1, "green")),
        ),
        Panel(
            "Alertmanager notifications",
            "timeseries",
            (
                Query(fleet(rec.AM_NOTIFICATIONS), "sent {{integration}}"),
                Query(fleet(rec.AM_NOTIFICATIONS_FAILED), "failed {{integration}}"),
            ),
            "Notifications Alertmanager delivered per second by integration, and failed deliveries (every "
            "reason together; 5 minute rate). Empty on a stack without receivers (friday:alertReceivers): "
            "only integrations in use are recorded.",
            alerts=(ALERTMANAGER_NOTIFICATIONS_FAILING,),
            data_once=AM_NOTIFICATIONS_DATA_ONCE,
            min=0,
            min_interval=MIN_INTERVAL,
        ),
        Panel(
            "Alerts in Alertmanager",
            "timeseries",
            (Query(fleet(rec.AM_ALERTS), "{{state}}"),),
            "Alerts Alertmanager holds, active or suppressed.",
            width=16,
            min=0,
            min_interval=MIN_INTERVAL,
        ),
        _reload_panel(
            "Alertmanager config reload",
            "alertmanager_config_last_reload_successful",
            "Whether Alertmanager loaded its last configuration (routes, receivers).",
            ALERTMANAGER_CONFIG_RELOAD_FAILED,
        ),
    ),
)

BACKUPS = Row(
    "Backups",
    (
        Panel(
            "Newest backup age",
            "stat",
            (Query(BACKUP_AGE, "age"),),
            "Time since the newest complete backup of the gateway databases finished. Empty: Prometheus "
            "scrapes no backup metrics (BackupStale fires for that too).",
            unit="s",
            width=6,
            alerts=(BACKUP_STALE,),
        ),
        Panel(
            "Backup age and BackupStale limit",
            "timeseries",
            (
                Query(BACKUP_AGE, "newest backup age"),
                Query(f"{BACKUP_LIMIT} * {BACKUP_STALE.value:g}", "BackupStale limit (backupStaleAfterHours)"),
            ),
            "Age of the newest complete backup against the stack's limit (recording rule "
            f"{BACKUP_STALE_AFTER_SECONDS}); BackupStale fires once the age stays above it for {BACKUP_STALE.for_}.",
            unit="s",
            width=12,
            alerts=(BACKUP_STALE,),
            min=0,
        ),
        Panel(
            "Backups kept",
            "stat",
            (Query(f"max({KEPT}{{{ENV}}})", "kept"),),
            "Complete backups in the backup folder (retention keeps backupRetentionCount of them).",
            width=6,
            steps=(Step(None, "red"), Step(1, "green")),
        ),
        Panel(
            "Off-host copy age and BackupOffsiteStale limit",
            "timeseries",
            (
                Query(OFFSITE_AGE, "newest off-host copy age"),
                Query(
                    f"{OFFSITE_LIMIT} * {BACKUP_OFFSITE_STALE.value:g}",
                    "BackupOffsiteStale limit (backupOffsiteStaleAfterHours)",
                ),
            ),
            "Age of the newest off-host copy (restic snapshot in the object store) against the stack's limit "
            f"(recording rule {BACKUP_OFFSITE_STALE_AFTER_SECONDS}); BackupOffsiteStale fires once the age stays "
            f"above it for {BACKUP_OFFSITE_STALE.for_}.",
            unit="s",
            width=18,
            alerts=(BACKUP_OFFSITE_STALE,),
            min=0,
            no_data=OFFSITE_OFF,
        ),
        Panel(
            "Off-host copy failures (1 d)",
            "stat",
            (Query(f"sum(increase({OFFSITE_FAILURES}{{{ENV}}}[1d]))", "failures"),),
            "Off-host copies and restores from off-host that failed in the last day (the tool logs why).",
            width=6,
            steps=(Step(None, "green"), Step(1, "red")),
            no_data=OFFSITE_OFF,
        ),
    ),
)

LOGS_PIPELINE = Row(
    "Logs pipeline",
    (
        Panel(
            "Loki lines received",
            "timeseries",
            (Query(fleet(rec.LOKI_LINES), "lines/s"),),
            "Log lines Loki accepted per second (5 minute rate).",
            width=6,
            min=0,
            min_interval=MIN_INTERVAL,
            no_data=needs_service("Loki"),
        ),
        Panel(
            "Loki requests by status",
            "timeseries",
            (Query(fleet(rec.LOKI_REQUESTS), "{{status_code}}"),),
            "Requests Loki served per second by HTTP status (5 minute rate); 5xx means pushes or queries fail.",
            unit="reqps",
            width=6,
            min=0,
            min_interval=MIN_INTERVAL,
            no_data=needs_service("Loki"),
        ),
        Panel(
            "Alloy components",
            "timeseries",
            (Query(fleet(rec.ALLOY_COMPONENTS), "{{health_type}}"),),
            "Alloy pipeline components by health; anything but healthy needs a look.",
            width=6,
            min=0,
            min_interval=MIN_INTERVAL,
            no_data=needs_service("Alloy"),
        ),
        Panel(
            "Alloy log entries to Loki",
            "timeseries",
            (
                Query(fleet(rec.LOKI_WRITE_SENT), "sent"),
                Query(fleet(rec.LOKI_WRITE_DROPPED), "dropped"),
            ),
            "Log entries Alloy shipped to Loki per second, and entries it dropped (5 minute rate).",
            width=6,
            min=0,
            min_interval=MIN_INTERVAL,
            no_data=needs_service("Alloy"),
        ),
    ),
)

DASHBOARD = Dashboard(
    uid=UID,
    title="F.R.I.D.A.Y. monitoring stack",
    description="The services that watch the gateway: scrape targets, Prometheus, Alertmanager, backups, "
    "Loki and Alloy.",
    tags=("friday", "monitoring"),
    rows=(TARGETS, PROMETHEUS, ALERTING, BACKUPS, LOGS_PIPELINE),
    variables=(Variable("environment", "Environment", f"label_values(up{{{scope.STACK_MATCHER}}}, environment)"),),
)
