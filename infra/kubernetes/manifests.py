"""Every Kubernetes object of a stack, in apply order, and the render producer that writes them."""

from __future__ import annotations

import re

import yaml

from infra.kubernetes import backup, monitoring, network, workload
from infra.kubernetes.meta import Manifest
from infra.settings import Settings
from infra.stack.spec import StackSpec

RENDER_DIR = "kubernetes"
# `<secret:KEY>`: a Secret value the Pulumi target fills with the secret Output of KEY.
PLACEHOLDER = re.compile(r"^<secret:([A-Za-z0-9]+)>$")
CUSTOM_GROUP = "monitoring.coreos.com"


def objects(settings: Settings, spec: StackSpec) -> list[Manifest]:
    """Namespace first, then the stack's objects, custom resources last."""
    return [
        workload.namespace(settings),
        *network.objects(settings),
        *workload.objects(settings, spec),
        *backup.objects(settings),
        *monitoring.objects(settings),
    ]


def is_custom(obj: Manifest) -> bool:
    return str(obj["apiVersion"]).startswith(CUSTOM_GROUP + "/")


def secret_keys(obj: Manifest) -> dict[str, str]:
    """{data key: secret key} of a Secret whose values are placeholders."""
    out = {}
    for data_key, value in obj.get("stringData", {}).items():
        match = PLACEHOLDER.match(value)
        if not match:
            raise AssertionError(f"Secret {obj['metadata']['name']}: {data_key} is not a <secret:KEY> placeholder")
        out[data_key] = match.group(1)
    return out


def file_name(obj: Manifest, index: int) -> str:
    return f"{RENDER_DIR}/{index:02d}-{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"


def produce(settings: Settings, spec: StackSpec) -> dict[str, str]:
    """render: one YAML file per object, numbered in apply order (kubernetes target only)."""
    if settings.target != "kubernetes":
        return {}
    return {
        file_name(obj, i): yaml.safe_dump(obj, sort_keys=False, width=1000)
        for i, obj in enumerate(objects(settings, spec), start=1)
    }
