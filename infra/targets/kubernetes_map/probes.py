"""Issue 16's probes on Kubernetes: the blackbox exporter, its probe-auth sidecar, the Probes.

The exporter runs as one Deployment in the stack's namespace with a ClusterIP Service on its
port `http`; Prometheus (the Prometheus Operator) scrapes it through one `Probe` per probe
(infra/stack/probe_resource.py), carrying the labels kube-prometheus-stack selects by. The
probes are the Docker target's (infra/stack/blackbox.py) with Kubernetes addresses:
- the gateway's /health through its Service, body checked (counts toward the SLO);
- with `metricsToken` set, the WebSocket upgrade on /ws/metrics with the admin key, through
  probe-auth (infra/stack/probe_auth.py) as a sidecar of the exporter's pod bound to 127.0.0.1:
  only the exporter in the same pod reaches it, and no file holds the key (`{env.VAR}`).
The public HTTPS, redirect and WebSocket-through-proxy probes are Docker's proxy probes: there is
no proxy on Kubernetes (the Ingress is the front door), so they are not run here.
"""

from __future__ import annotations

from typing import Any

from infra.metrics.probes import PROBE_HEALTH, PROBE_WS_UPGRADE
from infra.monitoring import endpoints
from infra.monitoring.scrape import ScrapeTarget
from infra.settings import Settings
from infra.settings.groups import label_pairs
from infra.settings.secrets import METRICS_TOKEN
from infra.stack import blackbox, gateway, key_proxy, probe_auth, probe_resource
from infra.stack.spec import StackSpec
from infra.stack.spec import resources as declared_resources
from infra.targets.kubernetes_map import gateway_objects
from infra.targets.kubernetes_map.meta import Manifest, content_hash, labels, metadata, name, selector
from infra.targets.kubernetes_map.pods import container_security, pod_security, pod_spec_defaults
from infra.targets.kubernetes_map.pods import resources as pod_resources
from infra.yamlio import dump_readable

COMPONENT = blackbox.NAME
HTTP_PORT_NAME = blackbox.HTTP
CONFIG_KEY = blackbox.CONFIG_FILE
CADDYFILE_KEY = "Caddyfile"
PROBE_AUTH_BIND = "127.0.0.1"
PROBE_AUTH_SCRATCH = "/tmp"


def service_name(settings: Settings) -> str:
    return name(settings, COMPONENT)


def prober_address(settings: Settings) -> str:
    """The exporter as Prometheus reaches it: its Service, by in-cluster DNS name."""
    return f"{service_name(settings)}.{settings.kubernetes_namespace}.svc:{blackbox.PORT}"


def probes(settings: Settings) -> tuple[blackbox.Probe, ...]:
    """The Docker target's probes that exist on Kubernetes, with in-cluster addresses."""
    by_name = {p.name: p for p in blackbox.probes(settings)}
    health = by_name[PROBE_HEALTH]
    found = [
        blackbox.Probe(
            health.name,
            health.module,
            f"{gateway_objects.in_cluster_url(settings)}{gateway.HEALTH_PATH}",
            health.slo,
            health.about,
        )
    ]
    if PROBE_WS_UPGRADE in by_name:
        ws = by_name[PROBE_WS_UPGRADE]
        found.append(blackbox.Probe(ws.name, ws.module, f"{PROBE_AUTH_BIND}:{probe_auth.PORT}", ws.slo, ws.about))
    return tuple(found)


def config_text(settings: Settings) -> str:
    """blackbox.yml: the Docker modules the Kubernetes probes use (no credential in it)."""
    used = {p.module for p in probes(settings)}
    modules = {k: v for k, v in blackbox.modules(settings).items() if k in used}
    header = (
        f"# Blackbox exporter modules of stack {settings.stack!r} on Kubernetes, generated from its settings\n"
        "# (infra/stack/blackbox.py, infra/targets/kubernetes_map/probes.py). No credential is in here.\n"
    )
    return header + dump_readable({"modules": modules})


def probe_auth_caddyfile(settings: Settings) -> str:
    return probe_auth.caddyfile(
        gateway_objects.in_cluster_address(settings), bind=PROBE_AUTH_BIND, storage_dir="/tmp/caddy"
    )


def runs_probe_auth(settings: Settings) -> bool:
    return blackbox.runs_websocket_probe(settings)


def config_data(settings: Settings) -> dict[str, str]:
    data = {CONFIG_KEY: config_text(settings)}
    if runs_probe_auth(settings):
        data[CADDYFILE_KEY] = probe_auth_caddyfile(settings)
    return data


def config_map_name(settings: Settings) -> str:
    return name(settings, f"blackbox-config-{content_hash(config_data(settings))}")


def config_map(settings: Settings) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(settings, config_map_name(settings), COMPONENT),
        "immutable": True,
        "data": config_data(settings),
    }


def _resources(memory_mb: int, cpu_millicores: int) -> dict[str, Any]:
    return pod_resources(declared_resources(memory_mb, cpu_millicores))


def exporter_container(settings: Settings) -> Manifest:
    get = {"httpGet": {"path": blackbox.HEALTH_PATH, "port": HTTP_PORT_NAME}, "timeoutSeconds": 2}
    return {
        "name": COMPONENT,
        "image": f"{settings.blackbox_image}:{settings.blackbox_tag}",
        "imagePullPolicy": "IfNotPresent",
        # The image's entrypoint is the exporter; these are its arguments.
        "args": list(blackbox.command()),
        "ports": [{"name": HTTP_PORT_NAME, "containerPort": blackbox.PORT, "protocol": "TCP"}],
        "readinessProbe": {**get, "periodSeconds": 10, "failureThreshold": 3},
        "livenessProbe": {**get, "periodSeconds": 30, "failureThreshold": 3},
        "resources": _resources(settings.blackbox_memory_mb, settings.blackbox_cpu_millicores),
        "securityContext": container_security(),
        "volumeMounts": [
            {"name": "config", "mountPath": blackbox.CONFIG_DIR, "readOnly": True},
        ],
    }


def probe_auth_container(settings: Settings, secret_name: str) -> Manifest:
    # Bound to 127.0.0.1, so the kubelet (which connects to the pod IP) cannot probe it over
    # HTTP: the image's busybox wget asks from inside the container.
    health_url = f"http://{PROBE_AUTH_BIND}:{probe_auth.PORT}{probe_auth.HEALTH_PATH}"
    check = {"exec": {"command": ["wget", "-q", "-O", "/dev/null", health_url]}, "timeoutSeconds": 2}
    env: list[dict[str, Any]] = [
        {"name": probe_auth.KEY_ENV, "valueFrom": {"secretKeyRef": {"name": secret_name, "key": METRICS_TOKEN}}},
        *({"name": k, "value": v} for k, v in key_proxy.CADDY_ENV.items()),
    ]
    return {
        "name": probe_auth.NAME,
        "image": f"{settings.proxy_caddy_image}:{settings.proxy_caddy_tag}",
        "imagePullPolicy": "IfNotPresent",
        "command": list(key_proxy.command(f"{probe_auth.CONFIG_DIR}/{CADDYFILE_KEY}")),
        "env": env,
        "readinessProbe": {**check, "periodSeconds": 10, "failureThreshold": 3},
        "livenessProbe": {**check, "periodSeconds": 30, "failureThreshold": 3},
        "resources": _resources(probe_auth.MEMORY_MB, probe_auth.CPU_MILLICORES),
        # The caddy image's binary carries cap_net_bind_service=+ep (caddyserver/caddy-docker#396).
        "securityContext": container_security(add=("NET_BIND_SERVICE",)),
        "volumeMounts": [
            {"name": "config", "mountPath": probe_auth.CONFIG_DIR, "readOnly": True},
            {"name": "probe-auth-tmp", "mountPath": PROBE_AUTH_SCRATCH},
        ],
    }


def deployment(settings: Settings, spec: StackSpec) -> Manifest:
    containers = [exporter_container(settings)]
    volumes: list[Manifest] = [{"name": "config", "configMap": {"name": config_map_name(settings)}}]
    if runs_probe_auth(settings):
        # The admin key is the gateway Secret's metricsToken (the scrape credential).
        containers.append(probe_auth_container(settings, gateway_objects.secret_name(settings, spec)))
        volumes.append({"name": "probe-auth-tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "16Mi"}})
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(settings, name(settings, COMPONENT), COMPONENT),
        "spec": {
            "replicas": 1,
            "revisionHistoryLimit": 3,
            "selector": {"matchLabels": selector(settings, COMPONENT)},
            "template": {
                "metadata": {"labels": labels(settings, COMPONENT)},
                "spec": {
                    **pod_spec_defaults(),
                    "securityContext": pod_security(endpoints.NOBODY, endpoints.NOBODY),
                    "terminationGracePeriodSeconds": 10,
                    "containers": containers,
                    "volumes": volumes,
                },
            },
        },
    }


def service(settings: Settings) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(settings, service_name(settings), COMPONENT),
        "spec": {
            "type": "ClusterIP",
            "selector": selector(settings, COMPONENT),
            "ports": [{"name": HTTP_PORT_NAME, "port": blackbox.PORT, "targetPort": HTTP_PORT_NAME, "protocol": "TCP"}],
        },
    }


def probe_objects(settings: Settings) -> list[Manifest]:
    """One Probe per probe, with the labels kube-prometheus-stack selects by; the targets carry
    `namespace`, `stack` and `environment` like the ServiceMonitor's, so the namespaced rules
    and the dashboards see them."""
    extra = {**labels(settings, "probes"), **label_pairs(settings.kubernetes_prometheus_selector)}
    target_labels = {
        "namespace": settings.kubernetes_namespace,
        "stack": settings.stack,
        "environment": settings.environment,
    }
    out = []
    for probe in probes(settings):
        target = ScrapeTarget(
            job=probe.job,
            address=prober_address(settings),
            metrics_path=blackbox.PROBE_PATH,
            labels={**probe.labels, **target_labels},
            params={"module": [probe.module]},
            probe_target=probe.target,
            interval=settings.probe_interval,
            # One second more than the module's own timeout, so the exporter reports the failure.
            timeout=f"{settings.probe_timeout_seconds + 1}s",
        )
        out.append(probe_resource.probe_manifest(settings, target, extra))
    return out


def objects(settings: Settings, spec: StackSpec) -> list[Manifest]:
    return [config_map(settings), deployment(settings, spec), service(settings)]
