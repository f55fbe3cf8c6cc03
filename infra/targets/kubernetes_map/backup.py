"""The backup on Kubernetes: the backup service of the stack as a CronJob on the gateway's claim.

On Docker the backup service loops (`serve`); here the same tool runs once per interval
(`backup`, then exit) with the service's image, ids, resources, environment and mounts. The
tool (standard library only) is shipped in a ConfigMap. The gateway's claim is ReadWriteOnce
and SQLite needs the disk the gateway uses, so the job runs on the gateway's node (pod
affinity). It needs no network at all: the namespace's default-deny policy stays in force.
"""

from __future__ import annotations

from typing import Any

from infra.settings import Settings
from infra.stack import backup, gateway
from infra.stack.spec import Service, StackSpec
from infra.targets.kubernetes_map import workload
from infra.targets.kubernetes_map.meta import Manifest, claim_name, content_hash, labels, metadata, name, selector
from infra.targets.kubernetes_map.pods import (
    container_security,
    pod_security,
    pod_spec_defaults,
    resources,
    scratch_mounts,
    scratch_volumes,
)

COMPONENT = backup.NAME
# A run that has not finished within this long is stopped; a missed start is still made up within it.
DEADLINE_S = 3600


def cron_schedule(hours: int) -> str:
    """Every `hours` hours on the hour (UTC), as a cron expression."""
    return "0 0 * * *" if hours == 24 else f"0 */{hours} * * *"


def cronjob_name(settings: Settings) -> str:
    """Also what BackupStale selects in kube-state-metrics' `cronjob` label."""
    return name(settings, COMPONENT)


def tool_config_map_name(settings: Settings) -> str:
    return name(settings, f"backup-tool-{content_hash(backup.tool_sources())}")


def _volume_name(volume: str) -> str:
    return "data" if volume == gateway.DATA_VOLUME else volume


def _claim(settings: Settings, service: Service) -> Manifest:
    pvc_spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": f"{settings.kubernetes_backup_storage_gb}Gi"}},
    }
    if settings.kubernetes_storage_class:
        pvc_spec["storageClassName"] = settings.kubernetes_storage_class
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": metadata(settings, claim_name(settings, backup.VOLUME), COMPONENT),
        "spec": pvc_spec,
    }


def cronjob(settings: Settings, service: Service) -> Manifest:
    container = {
        "name": COMPONENT,
        "image": service.image.ref,
        "imagePullPolicy": "IfNotPresent",
        "command": list(
            backup.tool_command(settings, "backup", data_dir=gateway.DATA_DIR, backup_dir=backup.BACKUP_DIR)
        ),
        "env": [{"name": k, "value": v} for k, v in sorted(service.env.items()) if isinstance(v, str)],
        "resources": resources(service.resources),
        "securityContext": container_security(),
        "volumeMounts": [
            # The data mount is read-write on purpose: a WAL reader updates the -shm index.
            *({"name": _volume_name(m.volume), "mountPath": m.path, "readOnly": m.read_only} for m in service.mounts),
            {"name": "tool", "mountPath": f"{backup.CONFIG_DIR}/{backup.PACKAGE}", "readOnly": True},
            *scratch_mounts(service),
        ],
    }
    pod_labels = labels(settings, COMPONENT)
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": metadata(settings, cronjob_name(settings), COMPONENT),
        "spec": {
            "schedule": cron_schedule(settings.backup_interval_hours),
            "timeZone": "Etc/UTC",
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": DEADLINE_S,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "metadata": {"labels": pod_labels},
                "spec": {
                    "backoffLimit": 2,
                    "activeDeadlineSeconds": DEADLINE_S,
                    "template": {
                        "metadata": {"labels": pod_labels},
                        "spec": {
                            **pod_spec_defaults(),
                            "restartPolicy": "Never",
                            "securityContext": pod_security(service.uid, service.gid),
                            "terminationGracePeriodSeconds": service.stop_grace_s,
                            "affinity": {
                                "podAffinity": {
                                    "requiredDuringSchedulingIgnoredDuringExecution": [
                                        {
                                            "labelSelector": {"matchLabels": selector(settings, workload.COMPONENT)},
                                            "topologyKey": "kubernetes.io/hostname",
                                        }
                                    ]
                                }
                            },
                            "containers": [container],
                            "volumes": [
                                *(
                                    {
                                        "name": _volume_name(m.volume),
                                        "persistentVolumeClaim": {"claimName": claim_name(settings, m.volume)},
                                    }
                                    for m in service.mounts
                                ),
                                {
                                    "name": "tool",
                                    "configMap": {"name": tool_config_map_name(settings), "defaultMode": 0o444},
                                },
                                *scratch_volumes(service),
                            ],
                        },
                    },
                },
            },
        },
    }


def objects(settings: Settings, spec: StackSpec) -> list[Manifest]:
    service = spec.service(backup.NAME)
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": metadata(settings, tool_config_map_name(settings), COMPONENT),
            "immutable": True,
            "data": backup.tool_sources(),
        },
        _claim(settings, service),
        cronjob(settings, service),
    ]
