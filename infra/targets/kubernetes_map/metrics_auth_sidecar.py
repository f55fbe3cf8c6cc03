"""The metrics-auth sidecar: Caddy in the gateway pod adds the scrape credential to `GET /metrics`.

Gateway 0.1.0 wants an admin API key in `X-API-Key` on /metrics, and a ServiceMonitor cannot
send an arbitrary header. Prometheus scrapes this sidecar's `metrics` port instead. Its Caddyfile,
port and key variable are the metrics-auth proxy's (infra/stack/metrics_auth.py, the one builder
every target uses); only the Kubernetes bits live here: the upstream is the gateway on the pod's
loopback, so the key never crosses the network, and the container's security context and probes.
"""

from __future__ import annotations

from typing import Any

from infra.settings import Settings
from infra.stack import key_proxy
from infra.stack import metrics_auth as proxy
from infra.stack.spec import Service
from infra.targets.kubernetes_map.meta import Manifest
from infra.targets.kubernetes_map.pods import container_security, resources, scratch_mounts

NAME = proxy.NAME
PORT_NAME = proxy.PORT_NAME
KEY_ENV = proxy.KEY_ENV
CONFIG_DIR = proxy.CONFIG_DIR
CADDYFILE = "Caddyfile"


def port(settings: Settings) -> int:
    """The sidecar's container port: `metricsAuthPort`, as on Docker and bare metal."""
    return settings.metrics_auth_port


def credential_key(service: Service) -> str | None:
    """The secret the sidecar sends as X-API-Key: the service's metrics credential, if it has one."""
    return service.metrics.credential.key if service.metrics and service.metrics.credential else None


def params(settings: Settings, service: Service) -> proxy.MetricsAuthParams:
    """The shared proxy's parameters for the sidecar of `service`."""
    assert service.metrics is not None, f"{service.name} declares no metrics"
    upstream = service.port(service.metrics.port).number
    return proxy.MetricsAuthParams(
        port=port(settings),
        upstream=f"127.0.0.1:{upstream}",
        metrics_path=service.metrics.path,
        key_env=KEY_ENV if credential_key(service) else None,
    )


def caddyfile(settings: Settings, service: Service) -> str:
    """The sidecar's config: the shared builder's, the header only when the stack has a key."""
    return proxy.caddyfile(params(settings, service))


def container(settings: Settings, service: Service, secret_name: str) -> dict[str, Any]:
    """The sidecar beside `service` in its pod (it shares the pod's scratch folders)."""
    # Caddy wants writable config and data folders even with admin and TLS off (under /tmp).
    env: list[dict[str, Any]] = [{"name": k, "value": v} for k, v in key_proxy.CADDY_ENV.items()]
    key = credential_key(service)
    if key:
        env.append({"name": KEY_ENV, "valueFrom": {"secretKeyRef": {"name": secret_name, "key": key}}})
    probe = {"tcpSocket": {"port": PORT_NAME}, "periodSeconds": 10, "timeoutSeconds": 2}
    return {
        "name": NAME,
        "image": f"{settings.metrics_auth_image}:{settings.metrics_auth_tag}",
        "imagePullPolicy": "IfNotPresent",
        "command": list(key_proxy.command(f"{CONFIG_DIR}/{CADDYFILE}")),
        "env": env,
        "ports": [{"name": PORT_NAME, "containerPort": port(settings), "protocol": "TCP"}],
        "readinessProbe": probe,
        "livenessProbe": {**probe, "failureThreshold": 3},
        # The metrics-auth service's own requests and limits (infra/stack/metrics_auth.py).
        "resources": resources(proxy.RESOURCES),
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
