"""Kubernetes target, the pure half: objects as plain dicts, no Pulumi.

Today: the backup's CronJob (with the tool's ConfigMap and the backups claim). The rest of the
Kubernetes target builds on the same names.
"""

from __future__ import annotations

from typing import Any

from infra import yamlio
from infra.settings import Settings
from infra.stack import backup, gateway
from infra.stack.spec import StackSpec

PART_OF = "friday"


def claim_name(prefix: str, volume: str) -> str:
    """The PersistentVolumeClaim that backs a volume of the stack (the gateway's, the backups')."""
    return f"{prefix}-{volume}"


def cron_schedule(hours: int) -> str:
    return "0 0 * * *" if hours == 24 else f"0 */{hours} * * *"


GATEWAY_SELECTOR = {"app.kubernetes.io/name": gateway.NAME, "app.kubernetes.io/part-of": PART_OF}


def kubernetes_objects(settings: Settings) -> list[dict[str, Any]]:
    """ConfigMap (the tool), PVC (the backups) and CronJob, in the stack's namespace."""
    ns = settings.kubernetes_namespace
    prefix = settings.name_prefix
    labels = {"app.kubernetes.io/name": backup.NAME, "app.kubernetes.io/part-of": PART_OF}
    config_map = f"{prefix}-backup-tool"
    claim = claim_name(prefix, backup.VOLUME)
    pvc_spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "10Gi"}},
    }
    if settings.kubernetes_storage_class:
        pvc_spec["storageClassName"] = settings.kubernetes_storage_class
    container = {
        "name": backup.NAME,
        "image": f"{settings.backup_image}:{settings.backup_tag}",
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
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            # Read-write on purpose: a WAL reader updates the -shm index (see docs/backups.md).
            {"name": "data", "mountPath": gateway.DATA_DIR},
            {"name": "backups", "mountPath": backup.BACKUP_DIR},
            {"name": "tool", "mountPath": f"{backup.CONFIG_DIR}/{backup.PACKAGE}", "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }
    cronjob = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": f"{prefix}-backup", "namespace": ns, "labels": labels},
        "spec": {
            "schedule": cron_schedule(settings.backup_interval_hours),
            "timeZone": "Etc/UTC",
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 3600,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "metadata": {"labels": labels},
                "spec": {
                    "backoffLimit": 2,
                    "activeDeadlineSeconds": 3600,
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {
                            "restartPolicy": "Never",
                            "securityContext": {
                                "runAsNonRoot": True,
                                "runAsUser": settings.gateway_uid,
                                "runAsGroup": settings.gateway_gid,
                                "fsGroup": settings.gateway_gid,
                                "seccompProfile": {"type": "RuntimeDefault"},
                            },
                            # The data claim is ReadWriteOnce and SQLite needs the local disk the
                            # gateway uses: run on the gateway's node, never elsewhere.
                            "affinity": {
                                "podAffinity": {
                                    "requiredDuringSchedulingIgnoredDuringExecution": [
                                        {
                                            "labelSelector": {"matchLabels": GATEWAY_SELECTOR},
                                            "topologyKey": "kubernetes.io/hostname",
                                        }
                                    ]
                                }
                            },
                            "containers": [container],
                            "volumes": [
                                {
                                    "name": "data",
                                    "persistentVolumeClaim": {"claimName": claim_name(prefix, gateway.DATA_VOLUME)},
                                },
                                {"name": "backups", "persistentVolumeClaim": {"claimName": claim}},
                                {"name": "tool", "configMap": {"name": config_map, "defaultMode": 0o444}},
                                {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
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
            "metadata": {"name": config_map, "namespace": ns, "labels": labels},
            "data": backup.tool_sources(),
        },
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": claim, "namespace": ns, "labels": labels},
            "spec": pvc_spec,
        },
        cronjob,
    ]


KUBERNETES_FILE = "kubernetes/backup-cronjob.yaml"


def produce(settings: Settings, spec: StackSpec) -> dict[str, str]:
    return {KUBERNETES_FILE: yamlio.safe_dump_all(kubernetes_objects(settings), sort_keys=False, width=1000)}
