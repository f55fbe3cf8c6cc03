"""Pod and container settings every workload of the stack shares (Pod Security `restricted`)."""

from __future__ import annotations

from typing import Any

from infra.stack.spec import HttpCheck, Resources, ScheduledTask, Scratch, Service
from infra.targets.kubernetes_map.meta import mebibytes, millicores

LOOPBACK = "127.0.0.1"


def pod_security(uid: int, gid: int) -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": gid,
        "fsGroup": gid,
        # Only walk the volume when its root is not the group's yet (large data volumes).
        "fsGroupChangePolicy": "OnRootMismatch",
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security(add: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every capability dropped (`add`: the few an image cannot start without)."""
    capabilities: dict[str, list[str]] = {"drop": ["ALL"]}
    if add:
        capabilities["add"] = list(add)
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": capabilities,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def resources(spec: Resources) -> dict[str, Any]:
    """The service's requests and limits (infra.stack.spec.resources says how they are derived)."""
    return {
        "requests": {"cpu": millicores(spec.requests.cpu_millicores), "memory": mebibytes(spec.requests.memory_mb)},
        "limits": {"cpu": millicores(spec.limits.cpu_millicores), "memory": mebibytes(spec.limits.memory_mb)},
    }


def pod_spec_defaults() -> dict[str, Any]:
    """No API token in the pod, no service-link environment variables."""
    return {"automountServiceAccountToken": False, "enableServiceLinks": False}


def _scratch_name(scratch: Scratch) -> str:
    return "scratch" + scratch.path.replace("/", "-")


def scratch_volumes(service: Service | ScheduledTask) -> list[dict[str, Any]]:
    """Each scratch folder of the service as a memory-backed emptyDir, lost on restart."""
    return [
        {"name": _scratch_name(s), "emptyDir": {"medium": "Memory", "sizeLimit": mebibytes(s.size_mb)}}
        for s in service.scratch
    ]


def scratch_mounts(service: Service | ScheduledTask) -> list[dict[str, Any]]:
    return [{"name": _scratch_name(s), "mountPath": s.path} for s in service.scratch]


def health_probes(service: Service, *, loopback: bool = False) -> dict[str, Any]:
    """The declared health as startup, readiness and liveness probes (`loopback`: through the image's
    own client inside the container, as the kubelet cannot reach the pod's loopback)."""
    hc = service.health
    if not isinstance(hc.check, HttpCheck):
        raise AssertionError(f"{service.name}: the Kubernetes mapping expects an HTTP health check")
    check: dict[str, Any]
    if loopback:
        url = f"http://{LOOPBACK}:{service.port(hc.check.port).number}{hc.check.path}"
        check = {"exec": {"command": [part.replace("{url}", url) for part in hc.check.fetch]}}
    else:
        check = {"httpGet": {"path": hc.check.path, "port": hc.check.port}}
    get = {**check, "timeoutSeconds": hc.timeout_s}
    startup_period = max(5, hc.timeout_s)
    startup_failures = -(-(hc.start_period_s + 60) // startup_period)
    return {
        # Up to start_period + one minute to come up; the other two wait for it. Never more often
        # than a probe may take (the gateway's timeout outlasts a scrape, infra/stack/gateway.py).
        "startupProbe": {**get, "periodSeconds": startup_period, "failureThreshold": startup_failures},
        "readinessProbe": {**get, "periodSeconds": max(10, hc.timeout_s), "failureThreshold": 3},
        "livenessProbe": {**get, "periodSeconds": hc.interval_s, "failureThreshold": hc.retries},
    }
