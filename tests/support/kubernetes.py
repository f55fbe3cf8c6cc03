"""Offline checks of Kubernetes manifests: kubernetes-validate, the Prometheus Operator CRDs, Pod Security.

No cluster here: built-in kinds are checked with kubernetes-validate's bundled OpenAPI schemas
(`--strict`: unknown fields refused), custom resources against the CRDs' openAPIV3Schema of the
pinned operator release, read from the cache scripts/crds.sh fills and checked against their sha256
(infra/crds.py; with unknown fields refused, which the CRDs' structural schemas do not do on
their own), and every pod template against the Pod Security Standards' `restricted` profile.
"""

from __future__ import annotations

import copy
import functools
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from infra import crds
from infra.settings import Settings
from infra.stack import build_stack, gateway
from infra.targets.kubernetes_map import manifests
from infra.targets.kubernetes_map.meta import NAME_LABEL
from testbed.settings import settings_of

KUBERNETES_VERSIONS = ("1.29", "1.37")
Manifest = dict[str, Any]


def kubernetes_validate(paths: list[Path], version: str) -> list[str]:
    """Problems kubernetes-validate --strict reports; a kind without a schema is a problem too."""
    exe = shutil.which("kubernetes-validate") or str(Path(sys.executable).parent / "kubernetes-validate")
    done = subprocess.run(
        [exe, "--strict", "--kubernetes-version", version, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    problems = [line for line in (done.stdout + done.stderr).splitlines() if line and not line.startswith("INFO")]
    if done.returncode != 0 and not problems:
        problems.append(f"kubernetes-validate exited {done.returncode}")
    return problems


class _CrdLoader(yaml.SafeLoader):
    """PyYAML reads a bare `=` (an enum value in the AlertmanagerConfig CRD) as its `value` tag."""


_CrdLoader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))  # type: ignore[arg-type]


def _closed(schema: Any) -> Any:
    """The schema with additionalProperties false on every object that lists properties and
    says nothing about others, so an unknown (typo'd) field fails validation."""
    if isinstance(schema, dict):
        out = {k: _closed(v) for k, v in schema.items()}
        if (
            "properties" in out
            and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_closed(v) for v in schema]
    return schema


@functools.cache
def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """{(apiVersion, kind): closed openAPIV3Schema} of the CRDs of the kinds the stack uses, from the
    cache (scripts/crds.sh fills it; each file checked against its pinned sha256 here)."""
    schemas = {}
    for data in crds.verified(files=crds.STACK_FILES).values():
        crd = yaml.load(data.decode("utf-8"), Loader=_CrdLoader)
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            schema = copy.deepcopy(version["schema"]["openAPIV3Schema"])
            # metadata is the API server's ObjectMeta, validated by the server, not the CRD.
            schema.setdefault("properties", {})["metadata"] = {"type": "object"}
            schemas[(f"{group}/{version['name']}", kind)] = _closed(schema)
    return schemas


def crd_problems(obj: Manifest) -> list[str]:
    key = (obj["apiVersion"], obj["kind"])
    schema = crd_schemas().get(key)
    if schema is None:
        return [f"no CRD for {key}"]
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{obj['kind']}/{obj['metadata']['name']} at {list(e.absolute_path)}: {e.message}"
        for e in validator.iter_errors(obj)
    ]


# --- Pod Security Standards, profile `restricted` (kubernetes.io/docs/concepts/security/pod-security-standards) --

ALLOWED_VOLUME_TYPES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}
ALLOWED_CAPABILITY_ADDS = {"NET_BIND_SERVICE"}
ALLOWED_SECCOMP = {"RuntimeDefault", "Localhost"}
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}


def pod_templates(obj: Manifest) -> Iterator[tuple[str, Manifest]]:
    """(where, pod spec) of every pod an object creates."""
    kind = obj["kind"]
    where = f"{kind}/{obj['metadata']['name']}"
    if kind == "Pod":
        yield where, obj["spec"]
    elif kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
        yield where, obj["spec"]["template"]["spec"]
    elif kind == "CronJob":
        yield where, obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def restricted_problems(pod: Manifest) -> list[str]:
    """What in a pod spec the `restricted` profile refuses (its baseline checks included)."""
    problems = _pod_problems(pod)
    pod_ctx = pod.get("securityContext", {})
    containers = [("container", c) for c in pod.get("containers", [])]
    containers += [("initContainer", c) for c in pod.get("initContainers", [])]
    containers += [("ephemeralContainer", c) for c in pod.get("ephemeralContainers", [])]
    if not pod.get("containers"):
        problems.append("no containers")
    for role, c in containers:
        problems += [f"{role} {c['name']}: {p}" for p in _container_problems(c, pod_ctx)]
    return problems


_SELINUX_TYPES = (None, "", "container_t", "container_init_t", "container_kvm_t", "container_engine_t")


def _pod_problems(pod: Manifest) -> list[str]:
    problems = [f"{flag} is set" for flag in ("hostNetwork", "hostPID", "hostIPC") if pod.get(flag)]
    pod_ctx = pod.get("securityContext", {})
    problems += [
        f"sysctl {s['name']} is not in the safe set"
        for s in pod_ctx.get("sysctls", [])
        if s["name"] not in SAFE_SYSCTLS
    ]
    if pod_ctx.get("runAsUser") == 0:
        problems.append("pod runAsUser is 0")
    se = pod_ctx.get("seLinuxOptions", {})
    if se.get("user") or se.get("role") or se.get("type") not in _SELINUX_TYPES:
        problems.append("pod seLinuxOptions sets a forbidden user, role or type")
    if pod_ctx.get("appArmorProfile", {}).get("type", "RuntimeDefault") not in ("RuntimeDefault", "Localhost"):
        problems.append("pod appArmorProfile is not RuntimeDefault or Localhost")
    for volume in pod.get("volumes", []):
        types = set(volume) - {"name"}
        if not types <= ALLOWED_VOLUME_TYPES:
            problems.append(f"volume {volume['name']} has type {sorted(types - ALLOWED_VOLUME_TYPES)}")
    seccomp = pod_ctx.get("seccompProfile", {}).get("type")
    if seccomp is not None and seccomp not in ALLOWED_SECCOMP:
        problems.append(f"pod seccompProfile {seccomp!r}")
    return problems


def _container_problems(c: Manifest, pod_ctx: Manifest) -> list[str]:
    ctx = c.get("securityContext", {})
    checks = [
        (bool(ctx.get("privileged")), "is privileged"),
        (ctx.get("allowPrivilegeEscalation") is not False, "allowPrivilegeEscalation must be false"),
        (
            ctx.get("runAsNonRoot", pod_ctx.get("runAsNonRoot")) is not True,
            "runAsNonRoot must be true (pod or container)",
        ),
        (ctx.get("runAsUser") == 0, "runAsUser is 0"),
        (
            ctx.get("seccompProfile", {}).get("type", pod_ctx.get("seccompProfile", {}).get("type"))
            not in ALLOWED_SECCOMP,
            "seccompProfile must be RuntimeDefault or Localhost (pod or container)",
        ),
        ("ALL" not in ctx.get("capabilities", {}).get("drop", []), "capabilities must drop ALL"),
        (
            not set(ctx.get("capabilities", {}).get("add", [])) <= ALLOWED_CAPABILITY_ADDS,
            "adds capabilities beyond NET_BIND_SERVICE",
        ),
        (ctx.get("procMount") not in (None, "Default"), "procMount is not Default"),
        (any(port.get("hostPort") for port in c.get("ports", [])), "uses a hostPort"),
        (bool(ctx.get("windowsOptions", {}).get("hostProcess")), "is a Windows hostProcess"),
    ]
    return [message for failed, message in checks if failed]


def write_manifests(objs: list[Manifest], root: Path) -> list[Path]:
    paths = []
    for i, obj in enumerate(objs):
        path = root / f"{i:02d}-{obj['kind'].lower()}.yaml"
        path.write_text(yaml.safe_dump(obj, sort_keys=False), encoding="utf-8")
        paths.append(path)
    return paths


# --- stacks to check ------------------------------------------------------------------------

KUBE_BASE: dict[str, Any] = {
    "target": "kubernetes",
    "environment": "prod",
    "kubernetesNamespace": "friday-test",
    "kubernetesIngressHost": "friday.example.org",
    "kubernetesCertIssuer": "letsencrypt",
}
ALL_RECEIVERS: dict[str, Any] = {
    "alertReceivers": "webhook,slack,email,pagerduty,heartbeat",
    "alertSlackChannel": "#friday",
    "alertEmailTo": "ops@example.org",
    "alertEmailFrom": "friday@example.org",
    "alertEmailSmarthost": "smtp.example.org:587",
    "alertEmailUsername": "friday",
}
RECEIVER_SECRETS = frozenset(
    {"alertWebhookUrl", "alertSlackUrl", "alertEmailPassword", "alertPagerdutyKey", "alertHeartbeatUrl"}
)
# Two shapes between them use every optional branch of the manifest builders.
# Remote-write targets of every kind (the install variant: infra/targets/kubernetes_map/remote_write.py).
REMOTE_WRITE = [
    {"name": "mimir", "url": "https://mimir.example.org/api/v1/push", "auth": "basic", "username": "tenant-1"},
    {"name": "vm", "url": "https://vm.example.org/api/v1/write", "auth": "bearer", "queue": {"maxShards": 10}},
    {"name": "agent", "url": "http://127.0.0.1:9999/api/v1/write"},
]

# Off-host copies on (the full variant).
OFFSITE: dict[str, Any] = {
    "backupOffsiteEnabled": True,
    "backupOffsiteEndpoint": "https://s3.example.org:9000",
    "backupOffsiteBucket": "friday-backups",
    "backupImage": "registry.example.org/friday-backup",
    "backupTag": "0.14.0-1",
}
OFFSITE_SECRETS = frozenset({"backupOffsiteAccessKeyId", "backupOffsiteSecretAccessKey", "backupOffsiteResticPassword"})

VARIANTS: dict[str, tuple[dict[str, Any], frozenset[str]]] = {
    "minimal": ({}, frozenset({"anthropicApiKey"})),
    "full": (
        {
            **ALL_RECEIVERS,
            "kubernetesCertIssuer": "",
            "kubernetesTlsSecret": "friday-tls",
            "kubernetesStorageClass": "fast-ssd",
            "kubernetesIngressClass": "traefik",
            "proxyLoginRateLimitPerMinute": 0,  # Traefik's own middleware (refused here otherwise)
            "kubernetesPrometheusSelector": "release=kps,team=ops",
            # Off-host copies: the backup runs as two CronJobs (infra/stack/backup.py `steps`).
            **OFFSITE,
        },
        RECEIVER_SECRETS | OFFSITE_SECRETS | {"anthropicApiKey", "metricsToken"},
    ),
    "install": (
        {"kubernetesMonitoringMode": "install", "alertReceivers": "webhook", "remoteWrite": REMOTE_WRITE},
        frozenset({"anthropicApiKey", "alertWebhookUrl", "remoteWriteCredentials"}),
    ),
}


def gateway_deployment(objects: list[Manifest]) -> Manifest:
    """The gateway's Deployment (the blackbox exporter has one too)."""
    [deployment] = [
        o for o in objects if o["kind"] == "Deployment" and o["metadata"]["labels"][NAME_LABEL] == gateway.NAME
    ]
    return deployment


def variant_settings(variant: str) -> Settings:
    plain, secrets = VARIANTS[variant]
    return settings_of({**KUBE_BASE, **plain}, secrets, stack="prod")


def variant_objects(variant: str) -> list[Manifest]:
    settings = variant_settings(variant)
    return manifests.objects(settings, build_stack(settings))
