"""The alert rules for a PrometheusRule: the rules of alerts/ scoped to the stack's namespace.

One cluster Prometheus evaluates the rules of every stack (one stack per gateway, each in its
namespace), so each rule here must see only its own namespace's series and carry that namespace
as a label (Alertmanager routes an AlertmanagerConfig's alerts by it):
- every vector selector gets `namespace="<ns>"`; the constants' joins match `on(namespace)`;
- the stack constants are recorded with the namespace label (two stacks never clash);
- BackupStale reads kube-state-metrics' CronJob series instead of the backup service's
  `/metrics` (there is no backup service on Kubernetes, only a CronJob); with off-host copies on,
  BackupOffsiteStale reads the off-host step's CronJob the same way (infra/stack/backup.py `steps`).
The probe and SLO rules come along (the blackbox exporter and its Probes run in the namespace,
infra/targets/kubernetes_map/probes.py): their recording rules read the namespace's series and
record the namespace label, so each stack's SLO and burn rates are its own; their constants are
recorded per namespace too.
The monitoring group of alerts/ (Prometheus, Alertmanager and scrape health) is left to
kube-prometheus-stack, which ships its own rules for those; only the Watchdog comes along, so
the stack's heartbeat receiver gets a heartbeat that carries the stack's namespace. The
dashboards' recording rules (alerts/dashboards.yml) come along, scoped the same way, except those
reading the monitoring components' own series (Prometheus, Alertmanager, Loki, Alloy): those run in
kubernetesMonitoringNamespace, so their rules read that namespace (scoped to the stack's namespace
they would always be empty), and record the stack's namespace like the others.
"""

from __future__ import annotations

import re
from typing import Any

from infra.alerting import recording, rules, slo, stack_constants, thresholds
from infra.settings import Settings

# A metric name, optionally followed by its {matchers}; functions and keywords are skipped below.
_SELECTOR = re.compile(r"(?<![\w:$.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?(?=\s*(\(|\[|\)|\s|$|/|>|<|=|!|\*|\+|-|,))")
_KEYWORDS = {"on", "ignoring", "group_left", "group_right", "by", "without", "and", "or", "unless", "bool", "offset"}
# Aggregations may be followed by `by (...)` instead of their parenthesis.
_KEYWORDS |= {
    "sum",
    "min",
    "max",
    "avg",
    "count",
    "group",
    "stddev",
    "stdvar",
    "topk",
    "bottomk",
    "quantile",
    "count_values",
}
# Series of the monitoring components themselves (they run in kubernetesMonitoringNamespace).
MONITORING_SERIES = re.compile(r"\b(?:prometheus|alertmanager|loki|alloy)_\w+")
LAST_SUCCESS = "kube_cronjob_status_last_successful_time"
CREATED = "kube_cronjob_created"


def scope(expr: str, namespace: str) -> str:
    """Add `namespace="<ns>"` to every vector selector of a PromQL expression."""
    matcher = f'namespace="{namespace}"'

    def add(match: re.Match[str]) -> str:
        metric, braces, following = match.group(1), match.group(2), match.group(3)
        if metric in _KEYWORDS or (following == "(" and not braces):
            return match.group(0)
        if braces:
            inner = braces[1:-1].strip()
            return f"{metric}{{{inner + ',' if inner else ''}{matcher}}}"
        return f"{metric}{{{matcher}}}"

    # Group modifiers take label lists in parentheses: protect them from the selector pattern.
    parts = re.split(r"((?:on|ignoring|group_left|group_right|by|without)\s*\([^)]*\))", expr)
    out = [p if i % 2 else _SELECTOR.sub(add, p) for i, p in enumerate(parts)]
    return "".join(out).replace("on() group_left()", "on(namespace) group_left()")


def _alert(rule: rules.AlertRule, expr: str, namespace: str) -> dict[str, Any]:
    doc = rule.as_rule()
    doc["expr"] = expr
    doc["labels"] = {**doc["labels"], "namespace": namespace}
    return doc


def _record(rule: dict[str, str], namespace: str) -> dict[str, Any]:
    """A recording rule in the namespace: it reads this namespace's series only and its result
    carries the namespace (the SLI's `min by (environment)` would drop it otherwise)."""
    return {"record": rule["record"], "expr": scope(rule["expr"], namespace), "labels": {"namespace": namespace}}


def backup_stale_expr(settings: Settings, cronjob: str) -> str:
    """Age of the newest successful backup job, from kube-state-metrics; before the first success
    the CronJob's creation time stands in (a new stack is not stale at once, one that never
    succeeds turns stale on time); no CronJob series at all is stale too."""
    ns = settings.kubernetes_namespace
    sel = f'{{namespace="{ns}",cronjob="{cronjob}"}}'
    return (
        f"(time() - max by (namespace) ({LAST_SUCCESS}{sel} or {CREATED}{sel}))\n"
        f'/ on(namespace) group_left() {stack_constants.BACKUP_STALE_AFTER_SECONDS}{{namespace="{ns}"}}'
        f" > {thresholds.BACKUP_STALE.value:g}\n"
        f"or absent({CREATED}{sel})\n"
    )


def backup_offsite_stale_expr(settings: Settings, cronjob: str) -> str:
    """BackupOffsiteStale from kube-state-metrics: the age of the off-host step's newest successful job
    (its CronJob exists only with off-host copies on), the same form as backup_stale_expr."""
    ns = settings.kubernetes_namespace
    sel = f'{{namespace="{ns}",cronjob="{cronjob}"}}'
    return (
        f"(time() - max by (namespace) ({LAST_SUCCESS}{sel} or {CREATED}{sel}))\n"
        f'/ on(namespace) group_left() {stack_constants.BACKUP_OFFSITE_STALE_AFTER_SECONDS}{{namespace="{ns}"}}'
        f" > {thresholds.BACKUP_OFFSITE_STALE.value:g}\n"
        f"or absent({CREATED}{sel})\n"
    )


def dashboard_rule_namespace(settings: Settings, expr: str) -> str:
    """Where the series of a dashboard recording rule are: the monitoring namespace for the
    monitoring components' own series, else the stack's namespace."""
    if MONITORING_SERIES.search(expr):
        return settings.kubernetes_monitoring_namespace
    return settings.kubernetes_namespace


def _offsite_alert(settings: Settings, cronjob: str) -> dict[str, Any]:
    [rule] = [r for r in rules.BACKUP_RULES.rules if r.threshold is thresholds.BACKUP_OFFSITE_STALE]
    ns = settings.kubernetes_namespace
    alert = _alert(rule, backup_offsite_stale_expr(settings, cronjob).strip(), ns)
    alert["annotations"] = {
        **alert["annotations"],
        "description": "The newest successful off-host copy job (restic snapshot in the object store) of the "
        "gateway databases is older than the stack allows (backupOffsiteStaleAfterHours), or kube-state-metrics "
        f"reports no off-host copy CronJob, for {thresholds.BACKUP_OFFSITE_STALE.for_}. "
        "Losing this node or its disk now would lose everything written since that copy.",
    }
    return alert


def groups(settings: Settings, backup_cronjob: str, offsite_cronjob: str | None = None) -> list[dict[str, Any]]:
    """The rule groups; BackupOffsiteStale only with `offsite_cronjob` (off-host copies on)."""
    ns = settings.kubernetes_namespace
    gateway = [_alert(r, scope(r.expr, ns).strip(), ns) for r in rules.GATEWAY_RULES.rules]
    [stale] = [r for r in rules.BACKUP_RULES.rules if r.threshold is thresholds.BACKUP_STALE]
    [watchdog] = [r for r in rules.MONITORING_RULES.rules if r.threshold is thresholds.WATCHDOG]
    backup = _alert(stale, backup_stale_expr(settings, backup_cronjob).strip(), ns)
    backup["annotations"] = {
        **backup["annotations"],
        "description": "The newest successful backup job of the gateway databases is older than the stack "
        f"allows (backupStaleAfterHours), or kube-state-metrics reports no backup CronJob, for "
        f"{thresholds.BACKUP_STALE.for_}. A restore now would lose everything written since the newest backup.",
    }
    constant_labels = {"namespace": ns, **stack_constants.stack_constant_labels(settings)}
    constants = [
        {"record": record, "expr": expr, "labels": constant_labels}
        for record, expr in stack_constants.stack_constant_exprs(settings).items()
    ]
    constants += [
        {"record": record, "expr": f"vector({days * 86400})", "labels": constant_labels}
        for record, days in (
            (stack_constants.CERT_EXPIRY_WARNING_SECONDS, settings.cert_expiry_warning_days),
            (stack_constants.CERT_EXPIRY_CRITICAL_SECONDS, settings.cert_expiry_critical_days),
        )
    ]
    constants += [{**rule, "labels": {**rule["labels"], "namespace": ns}} for rule in slo.constants(settings)]
    probes = [_alert(r, scope(r.expr, ns).strip(), ns) for r in rules.PROBE_RULES.rules]
    slo_rules = [_record(r, ns) for r in rules.SLO_RULES.records]
    slo_rules += [_alert(r, scope(r.expr, ns).strip(), ns) for r in rules.SLO_RULES.rules]
    window = slo.window_group(settings)
    # The recordings the dashboards read, per stack like the constants: this namespace's series
    # only, recorded with its namespace (two stacks of one environment do not add up).
    dashboards = [
        {
            "record": r.record,
            "expr": scope(r.expr, dashboard_rule_namespace(settings, r.expr)),
            "labels": {"namespace": ns},
        }
        for r in recording.RULES
    ]
    return [
        {"name": rules.GATEWAY_RULES.group, "rules": gateway},
        {"name": recording.GROUP, "interval": recording.INTERVAL, "rules": dashboards},
        {
            "name": rules.BACKUP_RULES.group,
            "rules": [backup, *([_offsite_alert(settings, offsite_cronjob)] if offsite_cronjob else [])],
        },
        {"name": rules.PROBE_RULES.group, "rules": probes},
        {"name": rules.SLO_RULES.group, "rules": slo_rules},
        {"name": window["name"], "rules": [_record(r, ns) for r in window["rules"]]},
        {"name": "friday-watchdog", "rules": [_alert(watchdog, watchdog.expr.strip(), ns)]},
        {"name": "friday-stack-constants", "rules": constants},
    ]
