"""The stack's part in kube-prometheus-stack: ServiceMonitor, Probes, PrometheusRule, dashboards, AlertmanagerConfig.

Each carries the labels kube-prometheus-stack selects by (setting kubernetesPrometheusSelector,
`release: <its release name>` by default). Prometheus scrapes the gateway pod's metrics-auth
sidecar (port `metrics`), which adds the scrape credential; the job label is the gateway's
name, as on Docker, so alerts and dashboards read the same series everywhere.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from infra.alerting import thresholds
from infra.dashboards import committed as committed_dashboards
from infra.dashboards import scope as dashboard_scope
from infra.monitoring import alertmanager
from infra.settings import Settings
from infra.settings.groups import label_pairs
from infra.settings.secrets import SECRETS_BY_KEY
from infra.stack import backup, gateway
from infra.stack.spec import StackSpec
from infra.targets.kubernetes_map import gateway_objects, metrics_auth_sidecar, probes, rules, tasks
from infra.targets.kubernetes_map.meta import NAME_LABEL, Manifest, content_hash, labels, metadata, name, selector

MONITORING_API = "monitoring.coreos.com/v1"
ALERTMANAGER_CONFIG_API = "monitoring.coreos.com/v1alpha1"
DASHBOARD_LABEL = "grafana_dashboard"
# A ConfigMap (and any object) must stay under 1 MiB in etcd.
MAX_OBJECT_BYTES = 1024 * 1024


def _meta(settings: Settings, object_name: str, component: str) -> dict[str, Any]:
    meta = metadata(settings, object_name, component)
    meta["labels"].update(label_pairs(settings.kubernetes_prometheus_selector))
    return meta


def service_monitor(settings: Settings, spec: StackSpec) -> Manifest:
    """The gateway job from the spec (`gateway.scrape`: path, interval, timeout), scraped on the
    metrics-auth sidecar's port, which is where the Kubernetes target places the proxy."""
    scrape = gateway.scrape(spec)
    timing = {"interval": scrape.interval, "scrapeTimeout": scrape.timeout}
    return {
        "apiVersion": MONITORING_API,
        "kind": "ServiceMonitor",
        "metadata": _meta(settings, name(settings, gateway.NAME), gateway_objects.COMPONENT),
        "spec": {
            # job="gateway", as the alerts and dashboards expect (the Service's name label).
            "jobLabel": NAME_LABEL,
            "selector": {"matchLabels": selector(settings, gateway_objects.COMPONENT)},
            "namespaceSelector": {"matchNames": [settings.kubernetes_namespace]},
            "endpoints": [
                {
                    "port": metrics_auth_sidecar.PORT_NAME,
                    "path": scrape.path,
                    "scheme": "http",
                    # The gateway job's own interval and timeout (docs/monitoring.md).
                    **{key: value for key, value in timing.items() if value is not None},
                    "relabelings": [
                        {"action": "replace", "targetLabel": "stack", "replacement": settings.stack},
                        {"action": "replace", "targetLabel": "environment", "replacement": settings.environment},
                    ],
                }
            ],
        },
    }


def _offsite_cronjob(settings: Settings) -> str | None:
    """The off-host step's CronJob (BackupOffsiteStale reads it), when off-host copies are on."""
    return tasks.cronjob_name(settings, backup.OFFSITE_STEP) if settings.backup_offsite_enabled else None


def prometheus_rule(settings: Settings) -> Manifest:
    return {
        "apiVersion": MONITORING_API,
        "kind": "PrometheusRule",
        "metadata": _meta(settings, name(settings, "alerts"), "alerts"),
        "spec": {
            "groups": rules.groups(settings, tasks.cronjob_name(settings, backup.NAME), _offsite_cronjob(settings))
        },
    }


def stack_dashboard(settings: Settings, text: str) -> str:
    """A committed dashboard as this stack's own: one Grafana serves every stack of the cluster, so
    the uid (at most 40 characters) gets a short hash of the namespace and the title the namespace
    (Grafana refuses two dashboards of one title in a folder), and its panels select the namespace's
    series only (infra/dashboards/scope.py); the rest is the committed JSON."""
    ns = settings.kubernetes_namespace
    doc = dashboard_scope.narrowed(json.loads(text), ns, settings.kubernetes_monitoring_namespace)
    doc["uid"] = f"{doc['uid']}-{hashlib.sha256(ns.encode()).hexdigest()[:8]}"
    doc["title"] = f"{doc['title']} ({ns})"
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def dashboard_config_maps(settings: Settings) -> list[Manifest]:
    """One ConfigMap per dashboard; the key, which Grafana's sidecar uses as the file name in its
    one folder for every namespace, starts with the namespace, so stacks never overwrite each other."""
    out = []
    ns = settings.kubernetes_namespace
    for file_name, text in sorted(committed_dashboards.files().items()):
        stem = file_name.removesuffix(".json")
        meta = metadata(settings, name(settings, f"dashboard-{stem}"), "dashboards")
        meta["labels"][DASHBOARD_LABEL] = "1"
        data = {f"{ns}-{file_name}": stack_dashboard(settings, text)}
        out.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data})
    return out


# --- AlertmanagerConfig ---------------------------------------------------------------------


def receiver_secret_keys(settings: Settings) -> list[str]:
    return sorted(alertmanager.SECRET_OF[r] for r in alertmanager.enabled(settings))


def receiver_secret_name(settings: Settings) -> str:
    keys = receiver_secret_keys(settings)
    return name(settings, f"alert-receivers-{content_hash(keys, settings.kubernetes_secret_version)}")


def receiver_secret(settings: Settings) -> Manifest | None:
    keys = receiver_secret_keys(settings)
    if not keys:
        return None
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata(settings, receiver_secret_name(settings), "alerts"),
        "type": "Opaque",
        "immutable": True,
        "stringData": {key: SECRETS_BY_KEY[key].placeholder() for key in keys},
    }


def _matcher(text: str) -> dict[str, str]:
    key, _, value = text.partition("=")
    return {"name": key, "value": value.strip('"'), "matchType": "="}


def alertmanager_config(settings: Settings) -> Manifest:
    """The Alertmanager routing of infra/monitoring/alertmanager.py in the operator's shape.

    The operator adds `namespace="<this namespace>"` to the top route: only this stack's alerts
    (every rule of the PrometheusRule carries that label) reach these receivers.
    """
    docker = alertmanager.alertmanager_config(settings)
    route = docker["route"]
    every = settings.alert_heartbeat_interval
    return {
        "apiVersion": ALERTMANAGER_CONFIG_API,
        "kind": "AlertmanagerConfig",
        "metadata": _meta(settings, name(settings, "alerts"), "alerts"),
        "spec": {
            "route": {
                "receiver": alertmanager.NOTIFY,
                "groupBy": route["group_by"],
                "groupWait": route["group_wait"],
                "groupInterval": route["group_interval"],
                "repeatInterval": route["repeat_interval"],
                "routes": [
                    {
                        "matchers": [_matcher(f'alertname="{thresholds.WATCHDOG.alert}"')],
                        "receiver": alertmanager.HEARTBEAT,
                        "groupWait": "0s",
                        "groupInterval": every,
                        "repeatInterval": every,
                    },
                    {"matchers": [_matcher('severity="critical"')], "receiver": alertmanager.PAGE},
                    {"matchers": [_matcher('severity="warning"')], "receiver": alertmanager.NOTIFY},
                ],
            },
            "inhibitRules": [
                {
                    "sourceMatch": [_matcher('severity="critical"')],
                    "targetMatch": [_matcher('severity="warning"')],
                    "equal": list(docker["inhibit_rules"][0]["equal"]),
                }
            ],
            "receivers": alertmanager.operator_receivers(settings, receiver_secret_name(settings)),
        },
    }


def objects(settings: Settings, spec: StackSpec) -> list[Manifest]:
    out: list[Manifest] = [service_monitor(settings, spec), *probes.probe_objects(settings), prometheus_rule(settings)]
    out += dashboard_config_maps(settings)
    secret = receiver_secret(settings)
    if secret is not None:
        out.append(secret)
    out.append(alertmanager_config(settings))
    return out


__all__ = ["MAX_OBJECT_BYTES", "labels", "objects"]
