"""Names, labels and content-hashed names shared by every Kubernetes object of a stack."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from infra.settings import Settings

Manifest = dict[str, Any]

PART_OF = "friday"
NAME_LABEL = "app.kubernetes.io/name"
INSTANCE_LABEL = "app.kubernetes.io/instance"
PART_OF_LABEL = "app.kubernetes.io/part-of"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
# The namespace label the API server sets on every namespace (Kubernetes 1.22+).
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


def instance(settings: Settings) -> str:
    return f"{settings.name_prefix}-{settings.stack}"


def name(settings: Settings, component: str) -> str:
    """Object name of a component: `<namePrefix>-<component>` (the namespace separates stacks)."""
    return f"{settings.name_prefix}-{component}"


def claim_name(settings: Settings, volume: str) -> str:
    """The PersistentVolumeClaim backing a volume of the stack (the gateway's data, the backups)."""
    return name(settings, volume)


def selector(settings: Settings, component: str) -> dict[str, str]:
    """The labels a Service, NetworkPolicy or affinity term selects a component's pods by."""
    return {NAME_LABEL: component, INSTANCE_LABEL: instance(settings)}


def labels(settings: Settings, component: str) -> dict[str, str]:
    return {
        **selector(settings, component),
        PART_OF_LABEL: PART_OF,
        MANAGED_BY_LABEL: "pulumi",
        "friday.environment": settings.environment,
    }


def metadata(settings: Settings, object_name: str, component: str, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": object_name,
        "namespace": settings.kubernetes_namespace,
        "labels": labels(settings, component),
    }
    meta.update(extra)
    return meta


def content_hash(*parts: object) -> str:
    """A short, stable hash of JSON-able parts: names a ConfigMap or Secret by what it holds.

    Never pass a secret value: render and `pulumi up` must compute the same name, and render
    does not know the values.
    """
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def mebibytes(mb: int) -> str:
    return f"{mb}Mi"


def millicores(m: int) -> str:
    return f"{m}m"
