"""The probes as Prometheus Operator `Probe` custom resources, for the Kubernetes target.

On Kubernetes with the Prometheus Operator the probe jobs are not written into prometheus.yml:
each probe becomes one `monitoring.coreos.com/v1` Probe (the same job name, module, target,
labels, interval and timeout as the Docker target's scrape job), and the operator generates the
scrape configuration. Plain data, validated against the operator's CRD in the tests; the
Kubernetes target maps it (for example as a `kubernetes.apiextensions.CustomResource`).
"""

from __future__ import annotations

from typing import Any

from infra.monitoring.scrape import ScrapeTarget
from infra.settings import Settings
from infra.stack import blackbox

API_VERSION = "monitoring.coreos.com/v1"
KIND = "Probe"


def probe_manifest(settings: Settings, target: ScrapeTarget, labels: dict[str, str] | None = None) -> dict[str, Any]:
    """One Probe resource for one probe job. `labels`: extra metadata labels, such as the
    `release` label a kube-prometheus-stack Prometheus selects Probes by."""
    if target.probe_target is None:
        raise ValueError(f"{target.job} is not a probe")
    [module] = target.params["module"]
    spec: dict[str, Any] = {
        "jobName": target.job,
        "module": module,
        "prober": {"url": target.address, "scheme": "http", "path": target.metrics_path},
        "targets": {
            "staticConfig": {"static": [target.probe_target], "labels": {"service": target.job, **target.labels}},
        },
    }
    if target.interval:
        spec["interval"] = target.interval
    if target.timeout:
        spec["scrapeTimeout"] = target.timeout
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {
            "name": f"{settings.name_prefix}-{target.job}",
            "namespace": settings.kubernetes_namespace,
            "labels": {
                "app.kubernetes.io/part-of": settings.name_prefix,
                "app.kubernetes.io/component": "probe",
                **(labels or {}),
            },
        },
        "spec": spec,
    }


def probe_manifests(settings: Settings, labels: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Every probe of the stack as a Probe resource."""
    return [probe_manifest(settings, t, labels) for t in blackbox.probe_targets(settings)]
