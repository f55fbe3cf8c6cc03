"""The metrics-auth sidecar: Caddy in the gateway pod adds the scrape credential to `GET /metrics`.

Gateway 0.1.0 wants an admin API key in `X-API-Key` on /metrics, and a ServiceMonitor cannot
send an arbitrary header. Prometheus scrapes this sidecar's `metrics` port instead; Caddy reads
the key from its environment at request time (`{env.VAR}`), so no file holds it, forwards only
`GET /metrics` to the gateway over the pod's loopback and answers 404 to everything else.
"""

from __future__ import annotations

from typing import Any

from infra.kubernetes.meta import Manifest
from infra.kubernetes.pods import TMP_MOUNT, container_security
from infra.settings import Settings
from infra.stack import gateway

NAME = "metrics-auth"
PORT = 9464
PORT_NAME = "metrics"
KEY_ENV = "FRIDAY_METRICS_API_KEY"
CONFIG_DIR = "/etc/metrics-auth"
CADDYFILE = "Caddyfile"
SECRET_KEY = "metricsToken"


def caddyfile(settings: Settings) -> str:
    """The sidecar's config; the credential header only when the stack has a metricsToken."""
    header = f"\t\t\theader_up X-API-Key {{env.{KEY_ENV}}}\n" if SECRET_KEY in settings.secrets_set else ""
    return (
        "# metrics-auth sidecar of the gateway pod (infra/kubernetes/metrics_auth.py).\n"
        "{\n"
        "\tadmin off\n"
        "\tauto_https off\n"
        "}\n"
        f":{PORT} {{\n"
        "\t@scrape {\n"
        "\t\tmethod GET\n"
        f"\t\tpath {gateway.METRICS_PATH}\n"
        "\t}\n"
        "\thandle @scrape {\n"
        f"\t\treverse_proxy 127.0.0.1:{settings.gateway_port} {{\n"
        f"{header}"
        "\t\t}\n"
        "\t}\n"
        "\thandle {\n"
        "\t\trespond 404\n"
        "\t}\n"
        "}\n"
    )


def container(settings: Settings, secret_name: str, config_map: str) -> dict[str, Any]:
    env: list[dict[str, Any]] = [
        # Caddy wants writable config and data folders even with admin and TLS off.
        {"name": "XDG_CONFIG_HOME", "value": "/tmp/caddy-config"},
        {"name": "XDG_DATA_HOME", "value": "/tmp/caddy-data"},
    ]
    if SECRET_KEY in settings.secrets_set:
        env.append({"name": KEY_ENV, "valueFrom": {"secretKeyRef": {"name": secret_name, "key": SECRET_KEY}}})
    probe = {"tcpSocket": {"port": PORT_NAME}, "periodSeconds": 10, "timeoutSeconds": 2}
    return {
        "name": NAME,
        "image": f"{settings.proxy_caddy_image}:{settings.proxy_caddy_tag}",
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
        "securityContext": container_security(),
        "volumeMounts": [
            {"name": "metrics-auth-config", "mountPath": CONFIG_DIR, "readOnly": True},
            TMP_MOUNT,
        ],
    }


def config_volume(config_map: str) -> Manifest:
    return {
        "name": "metrics-auth-config",
        "configMap": {"name": config_map, "items": [{"key": CADDYFILE, "path": CADDYFILE}]},
    }
