"""Where each service and task of the spec runs on each target: the per-target placement table.

Every service the spec can hold has a placement on every target (tests/unit/test_placement.py builds
stacks with every optional part and checks it, and checks each claim against the target's plan):

- OWN: its own workload (a container, a Deployment or CronJob, a systemd unit);
- SIDECAR: a container in the pod of `of`;
- PLATFORM: handed to what the platform runs (kube-prometheus-stack or the install-mode charts on
  Kubernetes, a Debian package configured by the rendered files on bare metal);
- REPLACED: another object does its job (the Ingress is Kubernetes' reverse proxy);
- ABSENT: not on this target (`why` says why).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from infra.stack import (
    alertmanager,
    alloy,
    backup,
    blackbox,
    gateway,
    grafana,
    loki,
    metrics_auth,
    probe_auth,
    prometheus,
    proxy,
    swagger_ui,
)


class Kind(Enum):
    OWN = "own"
    SIDECAR = "sidecar"
    PLATFORM = "platform"
    REPLACED = "replaced"
    ABSENT = "absent"


@dataclass(frozen=True)
class Placement:
    kind: Kind
    why: str
    of: str | None = None  # SIDECAR: the service whose pod holds it


def _own(why: str) -> Placement:
    return Placement(Kind.OWN, why)


DOCKER: dict[str, Placement] = {
    name: _own("a container of the stack (infra/targets/docker_map.py, generic over services)")
    for name in (
        gateway.NAME,
        metrics_auth.NAME,
        alertmanager.NAME,
        grafana.NAME,
        loki.NAME,
        alloy.NAME,
        swagger_ui.NAME,
        proxy.NAME,
        blackbox.NAME,
        probe_auth.NAME,
        prometheus.NAME,
        backup.NAME,
    )
}

_CHART = "kube-prometheus-stack (existing) or the install-mode charts (kubernetes_map/install.py)"
KUBERNETES: dict[str, Placement] = {
    gateway.NAME: _own("Deployment, Service, Ingress (kubernetes_map/gateway_objects.py)"),
    metrics_auth.NAME: Placement(
        Kind.SIDECAR, "beside the gateway (kubernetes_map/metrics_auth_sidecar.py)", gateway.NAME
    ),
    alertmanager.NAME: Placement(Kind.PLATFORM, f"{_CHART}; the stack's AlertmanagerConfig"),
    grafana.NAME: Placement(Kind.PLATFORM, f"{_CHART}; the dashboards as ConfigMaps"),
    loki.NAME: Placement(Kind.PLATFORM, "the install-mode Loki chart, or the cluster's own log store"),
    alloy.NAME: Placement(Kind.PLATFORM, "the install-mode Alloy chart (pod discovery, no Docker socket)"),
    swagger_ui.NAME: Placement(Kind.ABSENT, "a development aid of the Docker target"),
    proxy.NAME: Placement(Kind.REPLACED, "the Ingress is the reverse proxy (proxyEnabled is refused here)"),
    blackbox.NAME: _own("Deployment, Service (kubernetes_map/service_objects.py), Probes (kubernetes_map/probes.py)"),
    probe_auth.NAME: Placement(
        Kind.SIDECAR, "in the blackbox pod on 127.0.0.1 (kubernetes_map/service_objects.py)", blackbox.NAME
    ),
    prometheus.NAME: Placement(Kind.PLATFORM, f"{_CHART}; the ServiceMonitor, Probes and PrometheusRule"),
    backup.NAME: _own("CronJob (kubernetes_map/tasks.py, generic over tasks)"),
}

_NOT_ON_HOST = "not installed on bare metal: the operator's own, if any"
BAREMETAL: dict[str, Placement] = {
    gateway.NAME: _own("systemd unit friday-gateway.service (infra/host/systemd.py)"),
    metrics_auth.NAME: _own("systemd unit friday-metrics-auth.service (infra/host/metrics_auth_unit.py)"),
    alertmanager.NAME: Placement(
        Kind.PLATFORM, "Debian's prometheus-alertmanager package; its web config (basic auth) from host/alertmanager/"
    ),
    grafana.NAME: Placement(Kind.ABSENT, _NOT_ON_HOST),
    loki.NAME: Placement(Kind.ABSENT, _NOT_ON_HOST),
    alloy.NAME: Placement(Kind.PLATFORM, "Grafana's alloy package, configured by host/alloy/"),
    swagger_ui.NAME: Placement(Kind.ABSENT, "a development aid of the Docker target"),
    proxy.NAME: Placement(Kind.ABSENT, _NOT_ON_HOST),
    blackbox.NAME: Placement(Kind.ABSENT, _NOT_ON_HOST),
    probe_auth.NAME: Placement(Kind.ABSENT, "goes with the blackbox exporter"),
    prometheus.NAME: Placement(Kind.PLATFORM, "Debian's prometheus package, configured by host/prometheus/"),
    backup.NAME: _own("systemd service and timer friday-backup (infra/host/backup.py)"),
}
