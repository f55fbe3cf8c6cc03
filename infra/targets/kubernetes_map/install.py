"""`kubernetesMonitoringMode = install`: kube-prometheus-stack, Loki and Alloy from pinned charts.

Plain data for the Pulumi target (helm.v3.Release per chart) and for `render`. The program applies
the Prometheus Operator's CRDs itself, before the charts and before any custom resource of the
stack (the chart's own CRD install is off), so the first `pulumi up` never creates a
ServiceMonitor before its CRD exists. Everything lands in kubernetesMonitoringNamespace.

Chart values are written from the charts' documented values; no chart was fetched or templated
here (no network to the chart repositories), so a renamed value in a newer chart is not caught.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra import crds
from infra.dashboards import datasources
from infra.logs import pipeline
from infra.monitoring import cluster_sizing
from infra.settings import Settings
from infra.settings.groups import label_pairs
from infra.settings.secrets import SECRETS_BY_KEY
from infra.stack import alloy, loki
from infra.stack.spec import resources as spec_resources
from infra.targets.kubernetes_map import alloy_rbac, pods, remote_write
from infra.targets.kubernetes_map.meta import Manifest, labels, name
from infra.targets.kubernetes_map.monitoring import DASHBOARD_LABEL

KUBE_PROMETHEUS_STACK = "kube-prometheus-stack"
LOKI = "loki"
ALLOY = "alloy"
GRAFANA_ADMIN_SECRET_KEY = "grafanaAdminPassword"
# The operator's admission webhooks (validate and mutate PrometheusRules, validate AlertmanagerConfigs) are
# served by the operator pod itself. The stack's custom resources do not wait for the chart (install_order.py),
# so on the first `pulumi up` they may be created while the operator is still starting, or before the chart's
# post-install job has put the CA into the webhook configurations: a webhook that fails closed would refuse
# them. 'Ignore' lets the API server admit them unreviewed then; the rules are checked by promtool and the
# operator CRDs in the tests instead. Set explicitly: the chart's default ('', Ignore only while its
# certificate patch job is on) and 'IgnoreOnInstallOnly' (Fail on every upgrade) both can fail closed.
# Read in kube-prometheus-stack 88.0.0's values and webhook templates (docs/deployment.md).
WEBHOOK_FAILURE_POLICY = "Ignore"


@dataclass(frozen=True)
class Chart:
    release: str
    chart: str
    repository: str
    version: str
    namespace: str
    values: dict[str, Any]


def crd_files(settings: Settings) -> dict[str, dict[str, str]]:
    """{file: {url, sha256}} of the operator CRDs the program applies (infra/crds.py: pinned, checked)."""
    version = settings.prometheus_operator_version
    return {
        file: {"url": crds.URL.format(version=version, file=file), "sha256": digest}
        for file, digest in sorted(crds.checksums(version).items())
    }


def crds_yaml(settings: Settings) -> str:
    """Every CRD file of the pinned release from the cache, each checked against its sha256 first
    (crds.CrdError names the file and says how to fill the cache)."""
    texts = [data.decode("utf-8") for data in crds.verified(settings.prometheus_operator_version).values()]
    return "\n---\n".join(t.strip("\n") for t in texts) + "\n"


def _resources(memory_mb: int, cpu_millicores: int) -> dict[str, Any]:
    # Requests derived from limits as for every service of the stack (infra.stack.spec.resources).
    return pods.resources(spec_resources(memory_mb, cpu_millicores))


def _claim(settings: Settings, size_gb: int) -> dict[str, Any]:
    spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": f"{size_gb}Gi"}}}
    if settings.kubernetes_storage_class:
        spec["storageClassName"] = settings.kubernetes_storage_class
    return spec


def grafana_secret_name(settings: Settings) -> str:
    return name(settings, "grafana-admin")


def loki_url(settings: Settings) -> str:
    """The installed Loki's API, as Grafana and Alloy reach it inside the cluster."""
    return f"http://{LOKI}.{settings.kubernetes_monitoring_namespace}.svc:{loki.HTTP_PORT}"


def loki_push_url(settings: Settings) -> str:
    return f"{loki_url(settings)}{loki.PUSH_PATH}"


def objects(settings: Settings) -> list[Manifest]:
    """The monitoring namespace and Grafana's admin Secret (placeholder), before the charts."""
    ns = settings.kubernetes_monitoring_namespace
    # The charts' pods are not all known to pass `restricted` (not checked here): enforce baseline,
    # warn and audit on restricted so an operator sees what would not pass.
    pss = {
        "pod-security.kubernetes.io/enforce": "baseline",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
    }
    secret_meta = {"name": grafana_secret_name(settings), "namespace": ns, "labels": labels(settings, "grafana")}
    remote_write_secret = remote_write.secret(settings)
    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": ns, "labels": {**labels(settings, "monitoring"), **pss}},
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": secret_meta,
            "type": "Opaque",
            "stringData": {
                "admin-user": "admin",
                "admin-password": SECRETS_BY_KEY[GRAFANA_ADMIN_SECRET_KEY].placeholder(),
            },
        },
        *([remote_write_secret] if remote_write_secret else []),
    ]


def kube_prometheus_stack(settings: Settings) -> Chart:
    selector = {"matchLabels": label_pairs(settings.kubernetes_prometheus_selector)}
    values = {
        # The program applies the operator's CRDs itself, first (see the module docstring).
        "crds": {"enabled": False},
        # node-exporter needs the host's network, PID namespace and paths; clusters usually run one.
        "nodeExporter": {"enabled": False},
        # Never fail closed while the operator starts (WEBHOOK_FAILURE_POLICY above).
        "prometheusOperator": {"admissionWebhooks": {"failurePolicy": WEBHOOK_FAILURE_POLICY}},
        "prometheus": {
            "prometheusSpec": {
                "retention": settings.prometheus_retention_time,
                "retentionSize": settings.prometheus_retention_size,
                "scrapeInterval": settings.scrape_interval,
                "evaluationInterval": settings.evaluation_interval,
                "externalLabels": {"environment": settings.environment},
                # friday:remoteWrite (infra/targets/kubernetes_map/remote_write.py); absent when empty.
                **({"remoteWrite": remote_write.remote_write(settings)} if settings.remote_write else {}),
                # Select by the labels the stack's objects carry, in every namespace.
                "serviceMonitorSelector": selector,
                "serviceMonitorNamespaceSelector": {},
                "ruleSelector": selector,
                "ruleNamespaceSelector": {},
                "probeSelector": selector,
                "probeNamespaceSelector": {},
                # Sized for the whole cluster's series (infra/monitoring/cluster_sizing.py).
                "resources": _resources(cluster_sizing.memory_mib(settings), settings.prometheus_cpu_millicores),
                "storageSpec": {
                    "volumeClaimTemplate": {"spec": _claim(settings, settings.kubernetes_prometheus_storage_gb)}
                },
            }
        },
        "alertmanager": {
            "alertmanagerSpec": {
                "alertmanagerConfigSelector": selector,
                "alertmanagerConfigNamespaceSelector": {},
                "alertmanagerConfigMatcherStrategy": {"type": "OnNamespace"},
                "resources": _resources(settings.alertmanager_memory_mb, settings.alertmanager_cpu_millicores),
            }
        },
        "grafana": {
            "admin": {
                "existingSecret": grafana_secret_name(settings),
                "userKey": "admin-user",
                "passwordKey": "admin-password",
            },
            "resources": _resources(settings.grafana_memory_mb, settings.grafana_cpu_millicores),
            "sidecar": {
                "dashboards": {"enabled": True, "label": DASHBOARD_LABEL, "labelValue": "1", "searchNamespace": "ALL"},
                # The dashboards reference these uids (infra/dashboards/datasources.py).
                "datasources": {
                    "uid": datasources.PROMETHEUS.uid,
                    "alertmanager": {"uid": datasources.ALERTMANAGER.uid},
                },
            },
            "additionalDataSources": [
                {
                    "name": datasources.LOKI.name,
                    "type": datasources.LOKI.type,
                    "uid": datasources.LOKI.uid,
                    "access": "proxy",
                    "url": loki_url(settings),
                }
            ],
        },
    }
    return Chart(
        KUBE_PROMETHEUS_STACK,
        KUBE_PROMETHEUS_STACK,
        "https://prometheus-community.github.io/helm-charts",
        settings.kube_prometheus_stack_chart_version,
        settings.kubernetes_monitoring_namespace,
        values,
    )


def loki_chart(settings: Settings) -> Chart:
    st = loki.store(settings)
    values = {
        "deploymentMode": "Monolithic",
        "loki": {
            "auth_enabled": st.auth_enabled,
            "commonConfig": {"replication_factor": st.replication_factor},
            "storage": {"type": st.object_store},
            "schemaConfig": st.schema_config(),
            "limits_config": {"retention_period": st.retention_period},
            "compactor": {"retention_enabled": st.retention_enabled, "delete_request_store": st.object_store},
        },
        "singleBinary": {
            "replicas": 1,
            "persistence": {
                "size": f"{settings.kubernetes_loki_storage_gb}Gi",
                **({"storageClass": settings.kubernetes_storage_class} if settings.kubernetes_storage_class else {}),
            },
            "resources": _resources(settings.loki_memory_mb, settings.loki_cpu_millicores),
        },
        "read": {"replicas": 0},
        "write": {"replicas": 0},
        "backend": {"replicas": 0},
        "chunksCache": {"enabled": False},
        "resultsCache": {"enabled": False},
        "gateway": {"enabled": False},
        "lokiCanary": {"enabled": False},
        "test": {"enabled": False},
        # Prometheus scrapes Loki (the stack dashboard's Loki panels), selected like the stack's own.
        "monitoring": {
            "serviceMonitor": {"enabled": True, "labels": label_pairs(settings.kubernetes_prometheus_selector)}
        },
    }
    return Chart(
        LOKI,
        LOKI,
        "https://grafana-community.github.io/helm-charts",
        settings.loki_chart_version,
        settings.kubernetes_monitoring_namespace,
        values,
    )


def alloy_config(settings: Settings) -> str:
    return pipeline.kubernetes_config(settings, loki_push_url(settings), settings.kubernetes_namespace)


def helm_tpl_literal(text: str) -> str:
    """`text` as a Helm template that renders to itself: the Alloy chart passes its config through
    `tpl`, which would evaluate the pipeline's own `{{ ... }}` (its level template) against the chart
    and every line would get level="unparsed". Each `{{` becomes an action printing the string "{{"."""
    return text.replace("{{", '{{ "{{" }}')


def alloy_chart(settings: Settings) -> Chart:
    values = {
        # Logs come through the API server: one replica, no DaemonSet, no host paths.
        "controller": {"type": "deployment", "replicas": 1},
        "alloy": {
            "configMap": {"create": True, "content": helm_tpl_literal(alloy_config(settings))},
            "mounts": {"varlog": False, "dockercontainers": False},
            "resources": _resources(settings.alloy_memory_mb, settings.alloy_cpu_millicores),
            # Not read-only: Alloy keeps its positions and WAL under its storage path in the container.
            "securityContext": {
                "allowPrivilegeEscalation": False,
                # The image creates its user but runs as root unless told: without an id the kubelet
                # refuses runAsNonRoot and the release never becomes ready.
                "runAsNonRoot": True,
                "runAsUser": alloy.UID,
                "runAsGroup": alloy.GID,
                "capabilities": {"drop": ["ALL"]},
                "seccompProfile": {"type": "RuntimeDefault"},
            },
        },
        # A Role in the stack's namespace, no ClusterRole (alloy_rbac.py).
        "rbac": alloy_rbac.values(settings),
        "serviceAccount": {"create": True},
        # Prometheus scrapes Alloy (the stack dashboard's Alloy panels), selected like the stack's own.
        "serviceMonitor": {"enabled": True, "additionalLabels": label_pairs(settings.kubernetes_prometheus_selector)},
    }
    return Chart(
        ALLOY,
        ALLOY,
        "https://grafana.github.io/helm-charts",
        settings.alloy_chart_version,
        settings.kubernetes_monitoring_namespace,
        values,
    )


def charts(settings: Settings) -> list[Chart]:
    if settings.kubernetes_monitoring_mode != "install":
        return []
    return [kube_prometheus_stack(settings), loki_chart(settings), alloy_chart(settings)]
