"""The metrics-auth sidecar: Caddy in the gateway pod adds the scrape credential to `GET /metrics`.

Gateway 0.1.0 wants an admin API key in `X-API-Key` on /metrics, and a ServiceMonitor cannot
send an arbitrary header. Prometheus scrapes this sidecar's `metrics` port instead; Caddy reads
the key from its environment at request time (`{env.VAR}`), so no file holds it, forwards only
`GET /metrics` to the gateway over the pod's loopback and answers 404 to everything else.
"""

from __future__ import annotations

from typing import Any

from infra.settings import Settings
from infra.stack.spec import Service
from infra.targets.kubernetes_map.meta import Manifest
from infra.targets.kubernetes_map.pods import container_security, scratch_mounts

NAME = "metrics-auth"
PORT = 9464
PORT_NAME = "metrics"
KEY_ENV = "FRIDAY_METRICS_API_KEY"
CONFIG_DIR = "/etc/metrics-auth"
CADDYFILE = "Caddyfile"


def credential_key(service: Service) -> str | None:
    """The secret the sidecar sends as X-API-Key: the service's metrics credential, if it has one."""
    return service.metrics.credential.key if service.metrics and service.metrics.credential else None


def caddyfile(service: Service) -> str:
    """The sidecar's config for a service's metrics; the credential header only when it has one."""
    assert service.metrics is not None, f"{service.name} declares no metrics"
    upstream = service.port(service.metrics.port).number
    header = f"\t\t\theader_up X-API-Key {{env.{KEY_ENV}}}\n" if credential_key(service) else ""
    return (
        "# metrics-auth sidecar of the gateway pod (infra/targets/kubernetes_map/metrics_auth.py).\n"
        "{\n"
        "\tadmin off\n"
        "\tauto_https off\n"
        "}\n"
        f":{PORT} {{\n"
        "\t@scrape {\n"
        "\t\tmethod GET\n"
        f"\t\tpath {service.metrics.path}\n"
        "\t}\n"
        "\thandle @scrape {\n"
        f"\t\treverse_proxy 127.0.0.1:{upstream} {{\n"
        f"{header}"
        "\t\t}\n"
        "\t}\n"
        "\thandle {\n"
        "\t\trespond 404\n"
        "\t}\n"
        "}\n"
    )


def container(settings: Settings, service: Service, secret_name: str) -> dict[str, Any]:
    """The sidecar beside `service` in its pod (it shares the pod's scratch folders)."""
    env: list[dict[str, Any]] = [
        # Caddy wants writable config and data folders even with admin and TLS off.
        {"name": "XDG_CONFIG_HOME", "value": "/tmp/caddy-config"},
        {"name": "XDG_DATA_HOME", "value": "/tmp/caddy-data"},
    ]
    key = credential_key(service)
    if key:
        env.append({"name": KEY_ENV, "valueFrom": {"secretKeyRef": {"name": secret_name, "key": key}}})
    probe = {"tcpSocket": {"port": PORT_NAME}, "periodSeconds": 10, "timeoutSeconds": 2}
    return {
        "name": NAME,
        "image": f"{settings.metrics_auth_image}:{settings.metrics_auth_tag}",
        "imagePullPolicy": "IfNotPresent",
        "command": ["caddy", "run", "--config", f"{CONFIG_DIR}/{CADDYFILE}", "--adapter", "caddyfile"],
        "env": env,
        "ports": [{"name": PORT_NAME, "containerPort": PORT, "protocol": "TCP"}],
        "readinessProbe": probe,
        "livenessProbe": {**probe, "failureThreshold": 3},
        "resources": {
            "requests": {"cpu": "10m", "memory": "32Mi"},
            "limits": {"cpu": "200m", "memory": "64Mi"},
        },
        # The image's caddy binary carries the file capability cap_net_bind_service=+ep: exec fails
        # when that capability is not in the bounding set, even on an unprivileged port
        # (caddyserver/caddy-docker#396). `restricted` allows exactly this one back.
        "securityContext": container_security(add=("NET_BIND_SERVICE",)),
        "volumeMounts": [
            {"name": "metrics-auth-config", "mountPath": CONFIG_DIR, "readOnly": True},
            *scratch_mounts(service),
        ],
    }


def config_volume(config_map: str) -> Manifest:
    return {
        "name": "metrics-auth-config",
        "configMap": {"name": config_map, "items": [{"key": CADDYFILE, "path": CADDYFILE}]},
    }
