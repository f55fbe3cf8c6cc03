"""Spec services as Kubernetes objects, generically, with the placement table applied last.

`service_objects` maps one spec Service, with the services placed as its sidecars, to its objects:
- a Deployment (the service's workload: a single writer gets one replica, the old pod gone before
  the new one starts; a stateless one rolls), the pod's ids, security context, grace period;
- one container per service: image, the spec's command as the image's arguments (what Docker's
  `command` is too), environment (a SecretRef from the pod's Secret), named ports, requests and
  limits, capabilities, read-only root, probes from the health check, config folder and scratch;
- a ConfigMap per service with files (its config folder), a Secret with every key the pod's
  containers refer to (values are `<secret:KEY>` placeholders the Pulumi target fills);
- a ClusterIP Service on the named ports others reach;
- a ServiceMonitor for each service of the pod that declares metrics (applied with the other custom
  resources, last: `monitors`).

A sidecar that serves no metrics is reached only from inside its pod (probe-auth beside the
exporter): it listens on the pod's loopback, so it lists no container port, is left out of the
Service, and the kubelet (which connects to the pod IP) checks it with the image's own client (the
health check's `fetch`). A file's content can be this target's (addresses differ per target):
`files` maps a path to it.

`objects` applies the placement table (infra/targets/placement.py): each service placed OWN on
Kubernetes is mapped here with the services placed as its SIDECARs, unless a module of its own
still builds it (`BESPOKE`); PLATFORM, REPLACED and ABSENT services yield nothing here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import PurePosixPath
from typing import Any

from infra.settings import Settings
from infra.settings.groups import label_pairs
from infra.settings.secrets import SECRETS_BY_KEY
from infra.stack import blackbox, gateway, probe_auth
from infra.stack.spec import SecretRef, Service, StackSpec, Workload
from infra.targets import placement
from infra.targets.kubernetes_map import probes
from infra.targets.kubernetes_map.meta import NAME_LABEL, Manifest, content_hash, labels, metadata, name, selector
from infra.targets.kubernetes_map.pods import (
    container_security,
    health_probes,
    pod_security,
    pod_spec_defaults,
    resources,
    scratch_mounts,
    scratch_volumes,
)

MONITORING_API = "monitoring.coreos.com/v1"
# OWN services still built by a module of their own (gateway_objects.py: Deployment, Service, Ingress).
BESPOKE = frozenset({gateway.NAME})
# This target's content of a service's files, by path (the in-cluster addresses).
FILES: dict[str, Callable[[Settings], dict[str, str]]] = {
    blackbox.NAME: probes.exporter_files,
    probe_auth.NAME: probes.probe_auth_files,
}


def loopback_only(service: Service) -> bool:
    """A sidecar nobody outside its pod reaches: it serves no metrics for Prometheus to scrape."""
    return service.metrics is None


def container_ports(service: Service) -> list[dict[str, Any]]:
    return [{"name": p.name, "containerPort": p.number, "protocol": "TCP"} for p in service.ports]


def _relative(service: Service, path: str) -> str:
    assert service.config_dir is not None, f"{service.name}: files without a config folder"
    return str(PurePosixPath(path).relative_to(service.config_dir))


def config_data(settings: Settings, service: Service) -> dict[str, str]:
    """{file name: content} of the service's files, this target's content where it has its own."""
    if service.secret_files or any(f.secrets for f in service.files):
        raise AssertionError(f"{service.name}: secret files are not mapped to Kubernetes yet")
    own = FILES[service.name](settings) if service.name in FILES else {}
    return {_relative(service, f.path).replace("/", "."): own.get(f.path, f.content) for f in service.files}


def config_map_name(settings: Settings, service: Service) -> str:
    return name(settings, f"{service.name}-config-{content_hash(config_data(settings, service))}")


def config_map(settings: Settings, service: Service, component: str) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(settings, config_map_name(settings, service), component),
        "immutable": True,
        "data": config_data(settings, service),
    }


def secret_keys(pod: Sequence[Service]) -> list[str]:
    return sorted({v.key for s in pod for v in s.env.values() if isinstance(v, SecretRef)})


def secret_name(settings: Settings, pod: Sequence[Service]) -> str:
    # The keys and the operator's secret version, never the values (render does not know them).
    keys = secret_keys(pod)
    return name(settings, f"{pod[0].name}-secrets-{content_hash(keys, settings.kubernetes_secret_version)}")


def secret(settings: Settings, pod: Sequence[Service]) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata(settings, secret_name(settings, pod), pod[0].name),
        "type": "Opaque",
        "immutable": True,
        "stringData": {key: SECRETS_BY_KEY[key].placeholder() for key in secret_keys(pod)},
    }


def _volume_prefix(service: Service, host: Service) -> str:
    return "" if service is host else f"{service.name}-"


def container(settings: Settings, service: Service, host: Service, secret: str, *, loopback: bool) -> Manifest:
    """The service's container in `host`'s pod (itself, or the service it is a sidecar of)."""
    env: list[dict[str, Any]] = []
    for key, value in sorted(service.env.items()):
        if isinstance(value, SecretRef):
            env.append({"name": key, "valueFrom": {"secretKeyRef": {"name": secret, "key": value.key}}})
        else:
            env.append({"name": key, "value": value})
    prefix = _volume_prefix(service, host)
    mounts: list[dict[str, Any]] = []
    if service.files:
        assert service.config_dir is not None
        mounts.append({"name": f"{prefix}config", "mountPath": service.config_dir, "readOnly": True})
    mounts += [{**m, "name": prefix + m["name"]} for m in scratch_mounts(service)]
    if service.mounts or service.host_mounts:
        raise AssertionError(f"{service.name}: volumes are not mapped generically yet")
    security = container_security(add=service.capabilities_add)
    security["readOnlyRootFilesystem"] = service.read_only_root
    out: Manifest = {"name": service.name, "image": service.image.ref, "imagePullPolicy": "IfNotPresent"}
    if service.command:
        out["args"] = list(service.command)
    if env:
        out["env"] = env
    if not loopback:
        out["ports"] = container_ports(service)
    return {
        **out,
        **health_probes(service, loopback=loopback),
        "resources": resources(service.resources),
        "securityContext": security,
        "volumeMounts": mounts,
    }


def _volumes(settings: Settings, service: Service, host: Service) -> list[Manifest]:
    prefix = _volume_prefix(service, host)
    out: list[Manifest] = []
    if service.files:
        out.append({"name": f"{prefix}config", "configMap": {"name": config_map_name(settings, service)}})
    return out + [{**v, "name": prefix + v["name"]} for v in scratch_volumes(service)]


def deployment(settings: Settings, service: Service, sidecars: Sequence[Service]) -> Manifest:
    pod = (service, *sidecars)
    secret = secret_name(settings, pod)
    spec: Manifest = {"replicas": 1}
    if service.workload is Workload.SINGLE_WRITER:
        # One writer: never two pods on the data at once.
        spec["strategy"] = {"type": "Recreate"}
    elif service.workload is not Workload.STATELESS:
        raise AssertionError(f"{service.name}: a {service.workload.value} workload is not a Deployment")
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(settings, name(settings, service.name), service.name),
        "spec": {
            **spec,
            "revisionHistoryLimit": 3,
            "selector": {"matchLabels": selector(settings, service.name)},
            "template": {
                "metadata": {"labels": labels(settings, service.name)},
                "spec": {
                    **pod_spec_defaults(),
                    "securityContext": pod_security(service.uid, service.gid),
                    "terminationGracePeriodSeconds": max(s.stop_grace_s for s in pod),
                    "containers": [
                        container(settings, s, service, secret, loopback=s is not service and loopback_only(s))
                        for s in pod
                    ],
                    "volumes": [v for s in pod for v in _volumes(settings, s, service)],
                },
            },
        },
    }


def k8s_service(settings: Settings, service: Service, sidecars: Sequence[Service]) -> Manifest:
    """A ClusterIP Service on the named ports of the pod that are reached from outside it."""
    reached = [service, *(s for s in sidecars if not loopback_only(s))]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(settings, name(settings, service.name), service.name),
        "spec": {
            "type": "ClusterIP",
            "selector": selector(settings, service.name),
            "ports": [
                {"name": p.name, "port": p.number, "targetPort": p.name, "protocol": "TCP"}
                for s in reached
                for p in s.ports
            ],
        },
    }


def service_objects(settings: Settings, service: Service, sidecars: Sequence[Service] = ()) -> list[Manifest]:
    """Secret (when the pod refers to one), a ConfigMap per service with files, Deployment, Service."""
    pod = (service, *sidecars)
    out: list[Manifest] = []
    if secret_keys(pod):
        out.append(secret(settings, pod))
    out += [config_map(settings, s, s.name) for s in pod if s.files]
    return [*out, deployment(settings, service, sidecars), k8s_service(settings, service, sidecars)]


def sidecars_of(spec: StackSpec, host: str) -> list[Service]:
    return [
        s for s in spec.services if (p := placement.KUBERNETES[s.name]).kind is placement.Kind.SIDECAR and p.of == host
    ]


def objects(settings: Settings, spec: StackSpec, *, bespoke: frozenset[str] = BESPOKE) -> list[Manifest]:
    """Every service the placement table puts on Kubernetes as its own workload, with its sidecars."""
    return [
        obj
        for s in spec.services
        if placement.KUBERNETES[s.name].kind is placement.Kind.OWN and s.name not in bespoke
        for obj in service_objects(settings, s, sidecars_of(spec, s.name))
    ]


def service_monitors(settings: Settings, service: Service, sidecars: Sequence[Service] = ()) -> list[Manifest]:
    """One ServiceMonitor per service of the pod with metrics: its port, path, interval and timeout, the
    job the pod's Service name label (so the job is the service's, as on Docker)."""
    out = []
    for s in (service, *sidecars):
        if s.metrics is None:
            continue
        job = s.metrics.job or s.name
        if job != service.name:
            raise AssertionError(f"{s.name}: job {job!r} is not its pod's Service label {service.name!r}")
        meta = metadata(settings, name(settings, f"{s.name}-metrics"), service.name)
        meta["labels"].update(label_pairs(settings.kubernetes_prometheus_selector))
        timing = {"interval": s.metrics.interval, "scrapeTimeout": s.metrics.timeout}
        endpoint = {
            "port": s.metrics.port,
            "path": s.metrics.path,
            "scheme": "http",
            **{key: value for key, value in timing.items() if value is not None},
            "relabelings": [
                {"action": "replace", "targetLabel": "stack", "replacement": settings.stack},
                {"action": "replace", "targetLabel": "environment", "replacement": settings.environment},
            ],
        }
        out.append(
            {
                "apiVersion": MONITORING_API,
                "kind": "ServiceMonitor",
                "metadata": meta,
                "spec": {
                    "jobLabel": NAME_LABEL,
                    "selector": {"matchLabels": selector(settings, service.name)},
                    "namespaceSelector": {"matchNames": [settings.kubernetes_namespace]},
                    "endpoints": [endpoint],
                },
            }
        )
    return out


def monitors(settings: Settings, spec: StackSpec, *, bespoke: frozenset[str] = BESPOKE) -> list[Manifest]:
    """The ServiceMonitors of the services `objects` maps (custom resources: applied last)."""
    return [
        obj
        for s in spec.services
        if placement.KUBERNETES[s.name].kind is placement.Kind.OWN and s.name not in bespoke
        for obj in service_monitors(settings, s, sidecars_of(spec, s.name))
    ]
