"""What each chart and each custom resource really needs before it is created (install mode).

Plain data for the Pulumi target's `depends_on`: one crash of the gateway, or an Ingress that never
gets an address, must not hold back the monitoring, so nothing here waits on the stack's workloads.

- every chart: the monitoring namespace (created by the stack, infra.targets.kubernetes_map.install);
- kube-prometheus-stack: also the operator's CRDs (its Prometheus, Alertmanager and own
  ServiceMonitors are custom resources, and the chart's CRD install is off) and Grafana's admin Secret;
- Loki: nothing else (its chart's ServiceMonitor is off by default and not turned on here);
- Alloy: also the stack's namespace, where its Role and RoleBinding are created (it reads only that
  namespace's pods and logs, see install.alloy_chart).
- every custom resource of the stack (ServiceMonitor, Probe, PrometheusRule, AlertmanagerConfig):
  its namespace and the CRDs only. The program applies the CRDs itself, so no chart has to run first;
  the operator picks the objects up whenever it starts.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.settings import Settings
from infra.targets.kubernetes_map import install

# (kind, namespace or "" for a cluster-scoped object, name): how the target finds the object it made.
ObjectKey = tuple[str, str, str]


@dataclass(frozen=True)
class Needs:
    crds: bool
    objects: tuple[ObjectKey, ...]


def namespace_key(ns: str) -> ObjectKey:
    return ("Namespace", "", ns)


def chart_needs(settings: Settings, chart: install.Chart) -> Needs:
    monitoring_ns = namespace_key(settings.kubernetes_monitoring_namespace)
    if chart.release == install.KUBE_PROMETHEUS_STACK:
        grafana = ("Secret", settings.kubernetes_monitoring_namespace, install.grafana_secret_name(settings))
        return Needs(crds=True, objects=(monitoring_ns, grafana))
    if chart.release == install.ALLOY:
        return Needs(crds=False, objects=(monitoring_ns, namespace_key(settings.kubernetes_namespace)))
    if chart.release == install.LOKI:
        return Needs(crds=False, objects=(monitoring_ns,))
    raise AssertionError(f"no install order for the chart {chart.release!r}")


def custom_resource_needs(namespace: str) -> Needs:
    return Needs(crds=True, objects=(namespace_key(namespace),))
