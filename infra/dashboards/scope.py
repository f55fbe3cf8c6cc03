"""Whose series a dashboard shows: two hidden constant template variables, `namespace` and
`monitoring_namespace`, in every Prometheus selector of every panel.

On Docker and bare metal one Prometheus serves one stack: the committed dashboards keep both at
`.*`, which matches every series, those without a `namespace` label too (Prometheus treats a missing
label as the empty string). On Kubernetes one Prometheus and one Grafana may serve several stacks of
one environment in one cluster, and every series the dashboards read for a stack carries that
stack's namespace: the ServiceMonitor's targets get it from the operator, the Probes set it on their
targets (infra/targets/kubernetes_map/probes.py), the dashboards' recording rules and the stack
constants record it (kubernetes_map/rules.py). So each stack's copy of a dashboard
(kubernetes_map/monitoring.py) sets `namespace` to its own namespace and shows its own series only.
The few panels reading the monitoring components' own series directly (Prometheus' and
Alertmanager's config reloads, the Alertmanagers Prometheus found) select `monitoring_namespace`
instead: those components are the cluster's, shared by every stack, and run there.
"""

from __future__ import annotations

from typing import Any

STACK = "namespace"
MONITORING = "monitoring_namespace"
EVERY = ".*"
# The matchers the definitions put into their selectors.
STACK_MATCHER = f'namespace=~"${STACK}"'
MONITORING_MATCHER = f'namespace=~"${MONITORING}"'
DESCRIPTIONS = {
    STACK: "The stack's own series: every namespace where one Prometheus serves one stack; the stack's "
    "namespace in its copy on Kubernetes.",
    MONITORING: "Where the monitoring components (Prometheus, Alertmanager) run: every namespace where one "
    "Prometheus serves one stack; kubernetesMonitoringNamespace on Kubernetes.",
}


# The values the committed dashboards carry, for whatever substitutes their variables (tests, bench).
EVERY_STACK = {STACK: EVERY, MONITORING: EVERY}


def variable(name: str, value: str = EVERY) -> dict[str, Any]:
    """A hidden constant variable (Grafana's model) with the value its selectors match."""
    option = {"selected": True, "text": value, "value": value}
    return {
        "type": "constant",
        "name": name,
        "label": name,
        "description": DESCRIPTIONS[name],
        "hide": 2,
        "query": value,
        "current": option,
        "options": [option],
        "skipUrlSync": True,
    }


def variables() -> list[dict[str, Any]]:
    """Both variables as the committed dashboards carry them: every series."""
    return [variable(STACK), variable(MONITORING)]


def values(doc: dict[str, Any]) -> dict[str, str]:
    """{name: value} of the scope variables of a dashboard's JSON."""
    return {v["name"]: v["query"] for v in doc["templating"]["list"] if v["name"] in (STACK, MONITORING)}


def narrowed(doc: dict[str, Any], namespace: str, monitoring_namespace: str) -> dict[str, Any]:
    """The dashboard's JSON showing one stack: its namespace's series, and the monitoring namespace's
    for the monitoring components. Namespaces are DNS labels (no regex metacharacter but `-`)."""
    chosen = {STACK: namespace, MONITORING: monitoring_namespace}
    found = set()
    for i, var in enumerate(doc["templating"]["list"]):
        if var["name"] in chosen:
            doc["templating"]["list"][i] = variable(var["name"], chosen[var["name"]])
            found.add(var["name"])
    if found != set(chosen):
        raise AssertionError(f"dashboard {doc.get('uid')!r} lacks the scope variables {sorted(set(chosen) - found)}")
    return doc
