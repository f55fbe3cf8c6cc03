"""Issue 16's probes on Kubernetes: the blackbox exporter, its probe-auth sidecar, the Probes.

The exporter runs as one Deployment in the stack's namespace with a ClusterIP Service on its
port `http`, with probe-auth in its pod: both mapped from their spec services by
service_objects.py (the placement table says probe-auth is the exporter's sidecar); this module
gives their files' Kubernetes content and the Probes. Prometheus (the Prometheus Operator)
scrapes it through one `Probe` per probe (infra/stack/probe_resource.py), carrying the labels
kube-prometheus-stack selects by. The probes are the Docker target's (infra/stack/blackbox.py)
with Kubernetes addresses:
- the gateway's /health through its Service, body checked (counts toward the SLO);
- with `metricsToken` set, the WebSocket upgrade on /ws/metrics with the admin key, through
  probe-auth (infra/stack/probe_auth.py) as a sidecar of the exporter's pod bound to 127.0.0.1:
  only the exporter in the same pod reaches it, and no file holds the key (`{env.VAR}`).
The public HTTPS, redirect and WebSocket-through-proxy probes are Docker's proxy probes: there is
no proxy on Kubernetes (the Ingress is the front door), so they are not run here.
"""

from __future__ import annotations

from infra.metrics.probes import PROBE_HEALTH, PROBE_WS_UPGRADE
from infra.monitoring.scrape import ScrapeTarget
from infra.settings import Settings
from infra.settings.groups import label_pairs
from infra.stack import blackbox, gateway, probe_auth, probe_resource
from infra.targets.kubernetes_map import gateway_objects
from infra.targets.kubernetes_map.meta import Manifest, labels, name
from infra.yamlio import dump_readable

COMPONENT = blackbox.NAME
HTTP_PORT_NAME = blackbox.HTTP
PROBE_AUTH_BIND = "127.0.0.1"


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


def exporter_files(settings: Settings) -> dict[str, str]:
    """The exporter's files on Kubernetes, by path (service_objects.py delivers them)."""
    return {blackbox.CONFIG_PATH: config_text(settings)}


def probe_auth_files(settings: Settings) -> dict[str, str]:
    """probe-auth's Caddyfile on Kubernetes: on the pod's loopback, to the gateway's Service."""
    return {probe_auth.CONFIG_PATH: probe_auth_caddyfile(settings)}


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
