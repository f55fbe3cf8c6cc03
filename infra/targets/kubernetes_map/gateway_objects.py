"""The gateway on Kubernetes: namespace, config, secret, data claim, Deployment, Service, Ingress.

One pod, never two at once: the gateway keeps SQLite databases in WAL mode (one writer, a local
disk), so the Deployment has `replicas: 1` and `strategy: Recreate` (the old pod is gone before
the new one starts) on a ReadWriteOnce claim. A Deployment rather than a StatefulSet: a
StatefulSet's rolling update also stops the old pod first, but a stuck StatefulSet pod on a lost
node is never replaced without manual force-deletion, and it adds nothing for one replica.
"""

from __future__ import annotations

from typing import Any

import yaml

from infra.settings import Settings
from infra.settings.secrets import SECRETS_BY_KEY
from infra.stack import backup, gateway
from infra.stack.spec import ConfigFile, SecretRef, Service, StackSpec, Workload
from infra.targets.kubernetes_map import edge, metrics_auth_sidecar
from infra.targets.kubernetes_map.meta import (
    Manifest,
    content_hash,
    labels,
    metadata,
    name,
    selector,
)
from infra.targets.kubernetes_map.meta import (
    claim_name as volume_claim,
)
from infra.targets.kubernetes_map.pods import (
    container_security,
    health_probes,
    pod_security,
    pod_spec_defaults,
    resources,
    scratch_mounts,
    scratch_volumes,
)

COMPONENT = gateway.NAME
HTTP_PORT_NAME = gateway.HTTP
CONFIG_KEY = "config.yaml"
# Paths the Ingress routes to the gateway; everything else (above all /metrics) stays inside.
INGRESS_PATHS: tuple[tuple[str, str], ...] = (
    ("/api/", "Prefix"),
    (gateway.HEALTH_PATH, "Exact"),
    ("/ws/metrics", "Exact"),
)
# ingress-nginx: the /ws/metrics WebSocket stays open far longer than its 60 s default.
WEBSOCKET_TIMEOUT_S = 3600


def claim_name(settings: Settings) -> str:
    """The gateway's data claim (the backup CronJob mounts the same one)."""
    return volume_claim(settings, gateway.DATA_VOLUME)


def service_name(settings: Settings) -> str:
    return name(settings, COMPONENT)


def in_cluster_address(settings: Settings) -> str:
    """host:port of the gateway's Service as other pods of the cluster reach it (its one owner)."""
    return f"{service_name(settings)}.{settings.kubernetes_namespace}.svc:{settings.gateway_port}"


def in_cluster_url(settings: Settings) -> str:
    """The gateway's Service as other pods of the cluster reach it."""
    return f"http://{in_cluster_address(settings)}"


def tls_secret_name(settings: Settings) -> str:
    return settings.kubernetes_tls_secret or name(settings, "gateway-tls")


def _service(spec: StackSpec) -> Service:
    return spec.service(gateway.NAME)


def config_data(settings: Settings, spec: StackSpec) -> dict[str, str]:
    """What the gateway ConfigMap holds: the gateway's config file and the sidecar's Caddyfile."""
    [config] = [f for f in _service(spec).files if f.path == gateway.CONFIG_PATH]
    return {
        CONFIG_KEY: config.content,
        metrics_auth_sidecar.CADDYFILE: metrics_auth_sidecar.caddyfile(settings, _service(spec)),
    }


def secret_keys(settings: Settings, spec: StackSpec) -> list[str]:
    """Secret keys the gateway pod reads: its own, and the scrape credential the sidecar sends."""
    service = _service(spec)
    keys = set(service.secret_refs())
    credential = metrics_auth_sidecar.credential_key(service)
    if credential:
        keys.add(credential)
    return sorted(keys)


def config_map_name(settings: Settings, spec: StackSpec) -> str:
    return name(settings, f"gateway-config-{content_hash(config_data(settings, spec))}")


def secret_name(settings: Settings, spec: StackSpec) -> str:
    # The keys and the operator's secret version, never the values (render does not know them).
    digest = content_hash(secret_keys(settings, spec), settings.kubernetes_secret_version)
    return name(settings, f"gateway-secrets-{digest}")


def namespace(settings: Settings) -> Manifest:
    pss = {f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "warn", "audit")}
    pss.update({f"pod-security.kubernetes.io/{mode}-version": "latest" for mode in ("enforce", "warn", "audit")})
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": settings.kubernetes_namespace, "labels": {**labels(settings, "namespace"), **pss}},
    }


def config_map(settings: Settings, spec: StackSpec) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(settings, config_map_name(settings, spec), COMPONENT),
        "immutable": True,
        "data": config_data(settings, spec),
    }


def secret(settings: Settings, spec: StackSpec) -> Manifest:
    """The gateway's secrets; values are `<secret:KEY>` placeholders the Pulumi target fills."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata(settings, secret_name(settings, spec), COMPONENT),
        "type": "Opaque",
        "immutable": True,
        "stringData": {key: SECRETS_BY_KEY[key].placeholder() for key in secret_keys(settings, spec)},
    }


def claim_spec(settings: Settings, volume: str) -> dict[str, Any]:
    """A ReadWriteOnce claim of the size the settings give that volume (the gateway's data, the
    backups), on kubernetesStorageClass or the cluster's default."""
    sizes = {
        gateway.DATA_VOLUME: settings.kubernetes_gateway_storage_gb,
        backup.VOLUME: settings.kubernetes_backup_storage_gb,
    }
    spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": f"{sizes[volume]}Gi"}},
    }
    if settings.kubernetes_storage_class:
        spec["storageClassName"] = settings.kubernetes_storage_class
    return spec


def data_claim(settings: Settings) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": metadata(settings, claim_name(settings), COMPONENT),
        "spec": claim_spec(settings, gateway.DATA_VOLUME),
    }


def _env(service: Service, secret: str) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = []
    for key, value in sorted(service.env.items()):
        if isinstance(value, SecretRef):
            env.append({"name": key, "valueFrom": {"secretKeyRef": {"name": secret, "key": value.key}}})
        else:
            env.append({"name": key, "value": value})
    return env


def _ports(service: Service) -> list[dict[str, Any]]:
    return [{"name": p.name, "containerPort": p.number, "protocol": "TCP"} for p in service.ports]


def single_writer(service: Service) -> dict[str, Any]:
    """One replica, the old pod gone before the new one starts: what a single writer needs."""
    if service.workload is not Workload.SINGLE_WRITER:
        raise AssertionError(f"{service.name} is {service.workload.value}, not a single writer")
    return {"replicas": 1, "strategy": {"type": "Recreate"}}


def deployment(settings: Settings, spec: StackSpec) -> Manifest:
    service = _service(spec)
    secret = secret_name(settings, spec)
    cm = config_map_name(settings, spec)
    gateway_container = {
        "name": gateway.NAME,
        "image": service.image.ref,
        "imagePullPolicy": "IfNotPresent",
        "env": _env(service, secret),
        "ports": _ports(service),
        **health_probes(service),
        "resources": resources(service.resources),
        "securityContext": container_security(),
        "volumeMounts": [
            *({"name": "data", "mountPath": m.path, "readOnly": m.read_only} for m in service.mounts),
            {"name": "config", "mountPath": gateway.CONFIG_DIR, "readOnly": True},
            *scratch_mounts(service),
        ],
    }
    [data] = service.mounts
    assert data.volume == gateway.DATA_VOLUME
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(settings, name(settings, COMPONENT), COMPONENT),
        "spec": {
            # SQLite, one writer: never two pods on the data at once (see the module docstring).
            **single_writer(service),
            "revisionHistoryLimit": 3,
            "selector": {"matchLabels": selector(settings, COMPONENT)},
            "template": {
                "metadata": {"labels": labels(settings, COMPONENT)},
                "spec": {
                    **pod_spec_defaults(),
                    "securityContext": pod_security(service.uid, service.gid),
                    "terminationGracePeriodSeconds": service.stop_grace_s,
                    "containers": [gateway_container, metrics_auth_sidecar.container(settings, service, secret)],
                    "volumes": [
                        {"name": "data", "persistentVolumeClaim": {"claimName": claim_name(settings)}},
                        {
                            "name": "config",
                            "configMap": {"name": cm, "items": [{"key": CONFIG_KEY, "path": _config_file(service)}]},
                        },
                        metrics_auth_sidecar.config_volume(cm),
                        *scratch_volumes(service),
                    ],
                },
            },
        },
    }


def _config_file(service: Service) -> str:
    [config] = [f for f in service.files if f.path == gateway.CONFIG_PATH]
    return _relative(config, service)


def _relative(f: ConfigFile, service: Service) -> str:
    assert service.config_dir is not None
    return f.path.removeprefix(service.config_dir.rstrip("/") + "/")


def service(settings: Settings) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(settings, service_name(settings), COMPONENT),
        "spec": {
            "type": "ClusterIP",
            "selector": selector(settings, COMPONENT),
            "ports": [
                {
                    "name": HTTP_PORT_NAME,
                    "port": settings.gateway_port,
                    "targetPort": HTTP_PORT_NAME,
                    "protocol": "TCP",
                },
                {
                    "name": metrics_auth_sidecar.PORT_NAME,
                    "port": metrics_auth_sidecar.port(settings),
                    "targetPort": metrics_auth_sidecar.PORT_NAME,
                    "protocol": "TCP",
                },
            ],
        },
    }


def ingress(settings: Settings) -> Manifest:
    annotations: dict[str, str] = {}
    if settings.kubernetes_cert_issuer:
        annotations["cert-manager.io/cluster-issuer"] = settings.kubernetes_cert_issuer
    if settings.kubernetes_ingress_class == "nginx":
        annotations.update(
            {
                "nginx.ingress.kubernetes.io/proxy-read-timeout": str(WEBSOCKET_TIMEOUT_S),
                "nginx.ingress.kubernetes.io/proxy-send-timeout": str(WEBSOCKET_TIMEOUT_S),
                "nginx.ingress.kubernetes.io/ssl-redirect": "true",
            }
        )
        annotations.update(edge.source_annotations(settings))
    backend = {"service": {"name": service_name(settings), "port": {"name": HTTP_PORT_NAME}}}
    meta = metadata(settings, name(settings, COMPONENT), COMPONENT)
    if annotations:
        meta["annotations"] = annotations
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": meta,
        "spec": {
            "ingressClassName": settings.kubernetes_ingress_class,
            "tls": [{"hosts": [settings.kubernetes_ingress_host], "secretName": tls_secret_name(settings)}],
            "rules": [
                {
                    "host": settings.kubernetes_ingress_host,
                    "http": {
                        "paths": [{"path": path, "pathType": kind, "backend": backend} for path, kind in INGRESS_PATHS]
                    },
                }
            ],
        },
    }


def ingresses(settings: Settings) -> list[Manifest]:
    """The stack's Ingress, and with ingress-nginx and the login limit on, the login route's own (edge.py)."""
    main = ingress(settings)
    login = edge.login_ingress(settings, main)
    return [main, *([login] if login else [])]


def objects(settings: Settings, spec: StackSpec) -> list[Manifest]:
    return [
        config_map(settings, spec),
        secret(settings, spec),
        data_claim(settings),
        deployment(settings, spec),
        service(settings),
        # kubernetesRouting = gateway-api: an HTTPRoute instead (gateway_api.py).
        *(ingresses(settings) if settings.kubernetes_routing == "ingress" else []),
    ]


def dump(objs: list[Manifest]) -> str:
    return yaml.safe_dump_all(objs, sort_keys=False, width=1000)
