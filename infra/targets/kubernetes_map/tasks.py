"""Scheduled tasks of the stack (the backup) as CronJobs, with their files and their own claims.

Each task runs once per interval (`every_hours`, UTC from midnight, never two runs at once) with
the image, ids, requests and limits, environment, mounts and files it declares; the tool a task
ships (standard library Python for the backup) reaches the pod as a ConfigMap. A volume the task
shares with a service (the gateway's data) is that service's claim: ReadWriteOnce, and SQLite
needs the disk its writer uses, so the task's pods run on that service's node (pod affinity). A
task needs no network at all: the namespace's default-deny policy stays in force for it.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from infra.settings import Settings
from infra.settings.secrets import SECRETS_BY_KEY
from infra.stack.spec import ScheduledTask, SecretRef, StackSpec
from infra.targets.kubernetes_map.gateway_objects import claim_spec
from infra.targets.kubernetes_map.meta import Manifest, claim_name, content_hash, labels, metadata, name, selector
from infra.targets.kubernetes_map.pods import (
    container_security,
    pod_security,
    pod_spec_defaults,
    resources,
    scratch_mounts,
    scratch_volumes,
)

# Runs of a task kept for inspection, and retries of a failed run before the Job counts as failed.
HISTORY = 3
BACKOFF_LIMIT = 2


def cron_schedule(hours: int, minute: int = 0) -> str:
    """Every `hours` hours, `minute` past the hour (UTC), as a cron expression."""
    return f"{minute} 0 * * *" if hours == 24 else f"{minute} */{hours} * * *"


def scheduled(spec: StackSpec) -> list[ScheduledTask]:
    """What runs as CronJobs: each task's steps, else the task (ScheduledTask.steps: a CronJob's own
    metrics are not scraped, so a task whose parts are alerted on separately runs them separately)."""
    return [step for task in spec.tasks for step in task.scheduled()]


def cronjob_name(settings: Settings, task: str) -> str:
    """Also what BackupStale selects in kube-state-metrics' `cronjob` label."""
    return name(settings, task)


def _files_dir(task: ScheduledTask) -> str:
    """A ConfigMap mounts as one folder: every file of the task must sit in the same one."""
    folders = {str(PurePosixPath(f.path).parent) for f in task.files}
    if len(folders) != 1:
        raise AssertionError(f"task {task.name}: files in several folders {sorted(folders)}; one ConfigMap mounts one")
    return folders.pop()


def files_config_map_name(settings: Settings, task: ScheduledTask) -> str:
    return name(settings, f"{task.name}-files-{content_hash({f.path: f.content for f in task.files})}")


def _writers(spec: StackSpec, task: ScheduledTask) -> list[str]:
    """Services whose volumes the task mounts (the claims they own), and those of the tasks it shares a
    claim with (a ReadWriteOnce claim is used on one node: the off-host step beside the backup's)."""
    owner = {m.volume: s.name for s in spec.services for m in s.mounts}
    writers = {owner[m.volume] for m in task.mounts if m.volume in owner}
    own = {m.volume for m in task.mounts if m.volume not in owner}
    for other in scheduled(spec):
        if other is not task and own & {m.volume for m in other.mounts}:
            writers |= {owner[m.volume] for m in other.mounts if m.volume in owner}
    return sorted(writers)


def _cronjob(settings: Settings, spec: StackSpec, task: ScheduledTask) -> Manifest:
    env: list[dict[str, Any]] = []
    for key, value in sorted(task.env.items()):
        if isinstance(value, SecretRef):
            ref = {"name": secret_name(settings, task), "key": value.key}
            env.append({"name": key, "valueFrom": {"secretKeyRef": ref}})
        else:
            env.append({"name": key, "value": value})
    mounts: list[dict[str, Any]] = [
        {"name": m.volume, "mountPath": m.path, **({"readOnly": True} if m.read_only else {})} for m in task.mounts
    ]
    volumes: list[dict[str, Any]] = [
        {"name": m.volume, "persistentVolumeClaim": {"claimName": claim_name(settings, m.volume)}} for m in task.mounts
    ]
    if task.files:
        modes = {f.mode for f in task.files}
        if len(modes) != 1:
            raise AssertionError(f"task {task.name}: files with several modes {sorted(modes)}")
        mounts.append({"name": "files", "mountPath": _files_dir(task), "readOnly": True})
        volumes.append(
            {
                "name": "files",
                "configMap": {"name": files_config_map_name(settings, task), "defaultMode": int(modes.pop(), 8)},
            }
        )
    mounts += scratch_mounts(task)
    volumes += scratch_volumes(task)
    security = container_security()
    security["readOnlyRootFilesystem"] = task.read_only_root
    container = {
        "name": task.name,
        "image": task.image.ref,
        "imagePullPolicy": "IfNotPresent",
        "command": list(task.command),
        "env": env,
        "resources": resources(task.resources),
        "securityContext": security,
        "volumeMounts": mounts,
    }
    pod: dict[str, Any] = {
        **pod_spec_defaults(),
        "restartPolicy": "Never",
        "securityContext": pod_security(task.uid, task.gid),
    }
    writers = _writers(spec, task)
    if writers:
        pod["affinity"] = {
            "podAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {"labelSelector": {"matchLabels": selector(settings, w)}, "topologyKey": "kubernetes.io/hostname"}
                    for w in writers
                ]
            }
        }
    pod["containers"] = [container]
    pod["volumes"] = volumes
    pod_labels = labels(settings, task.name)
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": metadata(settings, cronjob_name(settings, task.name), task.name),
        "spec": {
            "schedule": cron_schedule(task.every_hours, task.start_minute),
            "timeZone": "Etc/UTC",
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": task.deadline_s,
            "successfulJobsHistoryLimit": HISTORY,
            "failedJobsHistoryLimit": HISTORY,
            "jobTemplate": {
                "metadata": {"labels": pod_labels},
                "spec": {
                    "backoffLimit": BACKOFF_LIMIT,
                    "activeDeadlineSeconds": task.deadline_s,
                    "template": {"metadata": {"labels": pod_labels}, "spec": pod},
                },
            },
        },
    }


def secret_keys(task: ScheduledTask) -> list[str]:
    return sorted({v.key for v in task.env.values() if isinstance(v, SecretRef)})


def secret_name(settings: Settings, task: ScheduledTask) -> str:
    # The keys and the operator's secret version, never the values (render does not know them).
    return name(settings, f"{task.name}-secrets-{content_hash(secret_keys(task), settings.kubernetes_secret_version)}")


def secret(settings: Settings, task: ScheduledTask) -> Manifest:
    """The task's secrets; values are `<secret:KEY>` placeholders the Pulumi target fills."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata(settings, secret_name(settings, task), task.name),
        "type": "Opaque",
        "immutable": True,
        "stringData": {key: SECRETS_BY_KEY[key].placeholder() for key in secret_keys(task)},
    }


def egress_policy(settings: Settings, task: ScheduledTask) -> Manifest:
    """What the default-deny policy keeps from a task that must reach a store outside the stack: DNS and
    its ports (anywhere: an object store is often on a private network)."""
    dns = [{"protocol": proto, "port": 53} for proto in ("UDP", "TCP")]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(settings, name(settings, f"{task.name}-egress"), task.name),
        "spec": {
            "podSelector": {"matchLabels": selector(settings, task.name)},
            "policyTypes": ["Egress"],
            "egress": [{"ports": dns}, {"ports": [{"protocol": "TCP", "port": p} for p in task.egress_ports]}],
        },
    }


def task_objects(settings: Settings, spec: StackSpec, task: ScheduledTask) -> list[Manifest]:
    """ConfigMap (the task's files), its Secret and egress policy when it has them, claims of the volumes
    only tasks use, and the CronJob."""
    objects: list[Manifest] = []
    if secret_keys(task):
        objects.append(secret(settings, task))
    if task.egress_ports:
        objects.append(egress_policy(settings, task))
    if task.files:
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": metadata(settings, files_config_map_name(settings, task), task.name),
                "immutable": True,
                "data": {PurePosixPath(f.path).name: f.content for f in task.files},
            }
        )
    owned_by_services = {m.volume for s in spec.services for m in s.mounts}
    for m in task.mounts:
        if m.volume not in owned_by_services:
            objects.append(
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "metadata": metadata(settings, claim_name(settings, m.volume), task.name),
                    "spec": claim_spec(settings, m.volume),
                }
            )
    objects.append(_cronjob(settings, spec, task))
    return objects


def objects(settings: Settings, spec: StackSpec) -> list[Manifest]:
    """Every scheduled task's objects; a claim two steps share is written once."""
    out: list[Manifest] = []
    seen: set[tuple[str, str]] = set()
    for task in scheduled(spec):
        for obj in task_objects(settings, spec, task):
            key = (obj["kind"], obj["metadata"]["name"])
            if obj["kind"] == "PersistentVolumeClaim" and key in seen:
                continue
            seen.add(key)
            out.append(obj)
    return out
