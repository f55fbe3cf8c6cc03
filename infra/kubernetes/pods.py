"""Pod and container settings every workload of the stack shares (Pod Security `restricted`)."""

from __future__ import annotations

from typing import Any

from infra.kubernetes.meta import mebibytes, millicores
from infra.stack.spec import Limits


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


def container_security() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def resources(limits: Limits) -> dict[str, Any]:
    """Limits from the spec; memory is requested in full (no overcommit of a database process),
    CPU a quarter of the limit (at least 50m), so the pod schedules on a busy node and bursts."""
    return {
        "requests": {
            "cpu": millicores(max(50, limits.cpu_millicores // 4)),
            "memory": mebibytes(limits.memory_mb),
        },
        "limits": {"cpu": millicores(limits.cpu_millicores), "memory": mebibytes(limits.memory_mb)},
    }


def pod_spec_defaults() -> dict[str, Any]:
    """No API token in the pod, no service-link environment variables."""
    return {"automountServiceAccountToken": False, "enableServiceLinks": False}


TMP_VOLUME = {"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}}
TMP_MOUNT = {"name": "tmp", "mountPath": "/tmp"}
