"""Kubernetes target, the pure half: the stack's objects as plain dicts, no Pulumi.

Today: each scheduled task of the stack as a CronJob, with a ConfigMap for its files and a claim
for each volume only tasks use (the claims of services' volumes come with their workloads, named
by the same `claim_name`). The Pulumi half and the services' workloads build on these names.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from infra import yamlio
from infra.settings import Settings
from infra.stack.spec import Amount, ScheduledTask, SecretRef, StackSpec

PART_OF = "friday"
# Runs of a scheduled task kept for inspection.
HISTORY = 3
# Retries of a failed run before the Job counts as failed.
BACKOFF_LIMIT = 2


def claim_name(prefix: str, volume: str) -> str:
    """The PersistentVolumeClaim that backs a volume of the stack (the gateway's, the backups')."""
    return f"{prefix}-{volume}"


def labels(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": PART_OF}


def cron_schedule(hours: int) -> str:
    return "0 0 * * *" if hours == 24 else f"0 */{hours} * * *"


def quantities(amount: Amount) -> dict[str, str]:
    return {"cpu": f"{amount.cpu_millicores}m", "memory": f"{amount.memory_mb}Mi"}


def _scratch_name(path: str) -> str:
    return "scratch" + path.replace("/", "-")


def _files_dir(task: ScheduledTask) -> str:
    """A ConfigMap mounts as one folder: every file of the task must sit in the same one."""
    folders = {str(PurePosixPath(f.path).parent) for f in task.files}
    if len(folders) != 1:
        raise AssertionError(f"task {task.name}: files in several folders {sorted(folders)}; one ConfigMap mounts one")
    return folders.pop()


def claim(settings: Settings, spec: StackSpec, volume_name: str, owner: str) -> dict[str, Any]:
    volume = next(v for v in spec.volumes if v.name == volume_name)
    pvc_spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": f"{volume.size_gb}Gi"}},
    }
    if settings.kubernetes_storage_class:
        pvc_spec["storageClassName"] = settings.kubernetes_storage_class
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": claim_name(spec.prefix, volume.name),
            "namespace": settings.kubernetes_namespace,
            "labels": labels(owner),
        },
        "spec": pvc_spec,
    }


def task_objects(settings: Settings, spec: StackSpec, task: ScheduledTask) -> list[dict[str, Any]]:
    """ConfigMap (the task's files), claims of the volumes only tasks use, and the CronJob."""
    ns, prefix = settings.kubernetes_namespace, spec.prefix
    meta_labels = labels(task.name)
    env: list[dict[str, Any]] = []
    for key, value in task.env.items():
        if isinstance(value, SecretRef):
            raise AssertionError(f"task {task.name}: secret env {key} needs the Kubernetes Secret of the stack")
        env.append({"name": key, "value": value})
    mounts: list[dict[str, Any]] = [{"name": m.volume, "mountPath": m.path} for m in task.mounts]
    volumes: list[dict[str, Any]] = [
        {"name": m.volume, "persistentVolumeClaim": {"claimName": claim_name(prefix, m.volume)}} for m in task.mounts
    ]
    for m, mount in zip(task.mounts, mounts, strict=True):
        if m.read_only:
            mount["readOnly"] = True
    objects: list[dict[str, Any]] = []
    if task.files:
        config_map = f"{prefix}-{task.name}-files"
        modes = {f.mode for f in task.files}
        if len(modes) != 1:
            raise AssertionError(f"task {task.name}: files with several modes {sorted(modes)}")
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": config_map, "namespace": ns, "labels": meta_labels},
                "data": {PurePosixPath(f.path).name: f.content for f in task.files},
            }
        )
        mounts.append({"name": "files", "mountPath": _files_dir(task), "readOnly": True})
        volumes.append({"name": "files", "configMap": {"name": config_map, "defaultMode": int(modes.pop(), 8)}})
    for scratch in task.scratch:
        mounts.append({"name": _scratch_name(scratch.path), "mountPath": scratch.path})
        volumes.append({"name": _scratch_name(scratch.path), "emptyDir": {"sizeLimit": f"{scratch.size_mb}Mi"}})
    # A volume a service also mounts belongs to that service (its claim comes with it); the rest
    # are the task's own.
    used_by_services = {m.volume: s.name for s in spec.services for m in s.mounts}
    objects += [claim(settings, spec, m.volume, task.name) for m in task.mounts if m.volume not in used_by_services]
    container = {
        "name": task.name,
        "image": task.image.ref,
        "command": list(task.command),
        "env": env,
        "resources": {"requests": quantities(task.resources.requests), "limits": quantities(task.resources.limits)},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": task.read_only_root,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": mounts,
    }
    pod: dict[str, Any] = {
        "restartPolicy": "Never",
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": task.uid,
            "runAsGroup": task.gid,
            "fsGroup": task.gid,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }
    writers = sorted({used_by_services[m.volume] for m in task.mounts if m.volume in used_by_services})
    if writers:
        # The claims are ReadWriteOnce and SQLite needs the local disk its writer uses: run on the
        # node of the service whose volume the task mounts, never elsewhere.
        pod["affinity"] = {
            "podAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {"labelSelector": {"matchLabels": labels(writer)}, "topologyKey": "kubernetes.io/hostname"}
                    for writer in writers
                ]
            }
        }
    pod["containers"] = [container]
    pod["volumes"] = volumes
    objects.append(
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": f"{prefix}-{task.name}", "namespace": ns, "labels": meta_labels},
            "spec": {
                "schedule": cron_schedule(task.every_hours),
                "timeZone": "Etc/UTC",
                "concurrencyPolicy": "Forbid",
                "startingDeadlineSeconds": task.deadline_s,
                "successfulJobsHistoryLimit": HISTORY,
                "failedJobsHistoryLimit": HISTORY,
                "jobTemplate": {
                    "metadata": {"labels": meta_labels},
                    "spec": {
                        "backoffLimit": BACKOFF_LIMIT,
                        "activeDeadlineSeconds": task.deadline_s,
                        "template": {"metadata": {"labels": meta_labels}, "spec": pod},
                    },
                },
            },
        }
    )
    return objects


def cronjob_file(task: ScheduledTask) -> str:
    return f"kubernetes/{task.name}-cronjob.yaml"


def produce(settings: Settings, spec: StackSpec) -> dict[str, str]:
    return {
        cronjob_file(task): yamlio.safe_dump_all(task_objects(settings, spec, task), sort_keys=False, width=1000)
        for task in spec.tasks
    }
