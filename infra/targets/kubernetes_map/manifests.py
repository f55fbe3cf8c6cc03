"""Every Kubernetes object of a stack, in apply order, and the render producer that writes them."""

from __future__ import annotations

import dataclasses
import re

import yaml

from infra.settings import Settings
from infra.stack.spec import StackSpec
from infra.targets.kubernetes_map import (
    gateway_api,
    gateway_objects,
    install,
    monitoring,
    network,
    service_objects,
    tasks,
)
from infra.targets.kubernetes_map.meta import Manifest

RENDER_DIR = "kubernetes"
# install mode: the charts (name, repository, version, namespace, values) and the CRDs applied first.
CHARTS_DIR = f"{RENDER_DIR}/charts"
# `<secret:KEY>`: a Secret value the Pulumi target fills with the secret Output of KEY.
PLACEHOLDER = re.compile(r"^<secret:([A-Za-z0-9]+)>$")
CUSTOM_GROUP = "monitoring.coreos.com"


def objects(settings: Settings, spec: StackSpec) -> list[Manifest]:
    """Namespaces first, then the stack's objects, custom resources last."""
    return [
        gateway_objects.namespace(settings),
        *(install.objects(settings) if settings.kubernetes_monitoring_mode == "install" else []),
        *network.objects(settings),
        *gateway_objects.objects(settings, spec),
        *gateway_api.objects(settings),
        *tasks.objects(settings, spec),
        *service_objects.objects(settings, spec),
        *monitoring.objects(settings, spec),
        *service_objects.monitors(settings, spec),
    ]


def is_custom(obj: Manifest) -> bool:
    return str(obj["apiVersion"]).startswith(CUSTOM_GROUP + "/")


def secret_keys(obj: Manifest) -> dict[str, str]:
    """{data key: secret key} of the placeholder values of a Secret (other values, such as
    Grafana's admin user name, are plain and stay as they are)."""
    out = {}
    for data_key, value in obj.get("stringData", {}).items():
        match = PLACEHOLDER.match(value)
        if match:
            out[data_key] = match.group(1)
    return out


def file_name(obj: Manifest, index: int) -> str:
    return f"{RENDER_DIR}/{index:02d}-{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"


def produce(settings: Settings, spec: StackSpec) -> dict[str, str]:
    """render: one YAML file per object, numbered in apply order, and in install mode the charts
    (the kubernetes target's plan, infra/targets/registry.py)."""
    out = {
        file_name(obj, i): yaml.safe_dump(obj, sort_keys=False, width=1000)
        for i, obj in enumerate(objects(settings, spec), start=1)
    }
    charts = install.charts(settings)
    if charts:
        out[f"{CHARTS_DIR}/crds.yaml"] = yaml.safe_dump(
            {
                "prometheusOperatorVersion": settings.prometheus_operator_version,
                "prometheusOperatorCrds": install.crd_files(settings),
            }
        )
    for chart in charts:
        out[f"{CHARTS_DIR}/{chart.release}.yaml"] = yaml.safe_dump(
            dataclasses.asdict(chart), sort_keys=False, width=1000
        )
    return out
