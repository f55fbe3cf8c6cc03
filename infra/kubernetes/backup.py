"""The backup on Kubernetes: a CronJob running the backup tool once per interval on the gateway's claim.

The tool (standard library only) is shipped in a ConfigMap and run by a stock Python image, as
on Docker and bare metal. The gateway's claim is ReadWriteOnce and SQLite needs the disk the
gateway uses, so the job runs on the gateway's node (pod affinity). It needs no network at all:
the namespace's default-deny policy stays in force for it.
"""

from __future__ import annotations

from typing import Any

from infra.kubernetes import workload
from infra.kubernetes.meta import Manifest, content_hash, labels, metadata, name, selector
from infra.kubernetes.pods import TMP_MOUNT, TMP_VOLUME, container_security, pod_security, pod_spec_defaults
from infra.settings import Settings
from infra.stack import backup, backup_schedules, gateway

COMPONENT = backup.NAME


def cronjob_name(settings: Settings) -> str:
    """Also what BackupStale selects in kube-state-metrics' `cronjob` label."""
    return name(settings, COMPONENT)


def claim_name(settings: Settings) -> str:
    return name(settings, backup.VOLUME)


def tool_config_map_name(settings: Settings) -> str:
    return name(settings, f"backup-tool-{content_hash(backup.tool_sources())}")


def objects(settings: Settings) -> list[Manifest]:
    pvc_spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": f"{settings.kubernetes_backup_storage_gb}Gi"}},
    }
    if settings.kubernetes_storage_class:
        pvc_spec["storageClassName"] = settings.kubernetes_storage_class
    container = {
        "name": COMPONENT,
        "image": f"{settings.backup_image}:{settings.backup_tag}",
        "imagePullPolicy": "IfNotPresent",
        "command": list(
            backup.tool_command(settings, "backup", data_dir=gateway.DATA_DIR, backup_dir=backup.BACKUP_DIR)
        ),
        "env": [
            {"name": "PYTHONPATH", "value": backup.CONFIG_DIR},
            {"name": "PYTHONDONTWRITEBYTECODE", "value": "1"},
        ],
        "resources": {
            "requests": {"cpu": "100m", "memory": "64Mi"},
            "limits": {"cpu": "500m", "memory": "256Mi"},
        },
        "securityContext": container_security(),
        "volumeMounts": [
            # Read-write on purpose: a WAL reader updates the -shm index (see docs/backups.md).
            {"name": "data", "mountPath": gateway.DATA_DIR},
            {"name": "backups", "mountPath": backup.BACKUP_DIR},
            {"name": "tool", "mountPath": f"{backup.CONFIG_DIR}/{backup.PACKAGE}", "readOnly": True},
            TMP_MOUNT,
        ],
    }
    pod_labels = labels(settings, COMPONENT)
    cronjob = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": metadata(settings, cronjob_name(settings), COMPONENT),
        "spec": {
            "schedule": backup_schedules.cron_schedule(settings.backup_interval_hours),
            "timeZone": "Etc/UTC",
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 3600,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "metadata": {"labels": pod_labels},
                "spec": {
                    "backoffLimit": 2,
                    "activeDeadlineSeconds": 3600,
                    "template": {
                        "metadata": {"labels": pod_labels},
                        "spec": {
                            **pod_spec_defaults(),
                            "restartPolicy": "Never",
                            "securityContext": pod_security(settings.gateway_uid, settings.gateway_gid),
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
                                {
                                    "name": "data",
                                    "persistentVolumeClaim": {"claimName": workload.claim_name(settings)},
                                },
                                {"name": "backups", "persistentVolumeClaim": {"claimName": claim_name(settings)}},
                                {
                                    "name": "tool",
                                    "configMap": {"name": tool_config_map_name(settings), "defaultMode": 0o444},
                                },
                                TMP_VOLUME,
                            ],
                        },
                    },
                },
            },
        },
    }
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": metadata(settings, tool_config_map_name(settings), COMPONENT),
            "immutable": True,
            "data": backup.tool_sources(),
        },
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": metadata(settings, claim_name(settings), COMPONENT),
            "spec": pvc_spec,
        },
        cronjob,
    ]
