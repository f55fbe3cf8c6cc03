"""Remote write on Kubernetes (install mode): kube-prometheus-stack's
`prometheus.prometheusSpec.remoteWrite`, with each credential a key of one Secret in the monitoring
namespace, referred to as the Prometheus Operator's RemoteWriteSpec defines it (`basicAuth.username`
and `basicAuth.password`, or `authorization.credentials` with type Bearer: Secret key selectors).

The settings are infra/settings/remote_write.py; the Docker and bare-metal form is
infra/monitoring/remote_write.py. `environment` reaches every sample through the chart's
`externalLabels` (infra/targets/kubernetes_map/install.py).
"""

from __future__ import annotations

from typing import Any

from infra.settings import Settings
from infra.settings.remote_write import RemoteWriteTarget
from infra.settings.secrets import placeholder
from infra.targets.kubernetes_map.meta import Manifest, labels, name

COMPONENT = "remote-write"


def secret_name(settings: Settings) -> str:
    return name(settings, COMPONENT)


def username_key(target: RemoteWriteTarget) -> str:
    return f"{target.name}-username"


def credential_key(target: RemoteWriteTarget) -> str:
    return f"{target.name}-credential"


def secret(settings: Settings) -> Manifest | None:
    """The credentials Secret (placeholders the program fills), or None when no target has auth."""
    data: dict[str, str] = {}
    for target in settings.remote_write:
        if target.auth == "basic":
            data[username_key(target)] = target.username
        if target.credential_key is not None:
            data[credential_key(target)] = placeholder(target.credential_key)
    if not data:
        return None
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": secret_name(settings),
            "namespace": settings.kubernetes_monitoring_namespace,
            "labels": labels(settings, COMPONENT),
        },
        "type": "Opaque",
        "stringData": data,
    }


def _ref(settings: Settings, key: str) -> dict[str, str]:
    return {"name": secret_name(settings), "key": key}


def entry(settings: Settings, target: RemoteWriteTarget) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": target.name, "url": target.url}
    if target.auth == "basic":
        spec["basicAuth"] = {
            "username": _ref(settings, username_key(target)),
            "password": _ref(settings, credential_key(target)),
        }
    elif target.auth == "bearer":
        spec["authorization"] = {"type": "Bearer", "credentials": _ref(settings, credential_key(target))}
    # The operator's queueConfig has the settings' camelCase names.
    spec["queueConfig"] = dict(target.queue)
    return spec


def remote_write(settings: Settings) -> list[dict[str, Any]]:
    return [entry(settings, t) for t in settings.remote_write]
