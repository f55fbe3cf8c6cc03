"""Backup scheduling outside Docker, as data: a Kubernetes CronJob and a systemd service+timer.

Docker runs the long-lived service of infra/stack/backup.py. The same tool runs here as a
one-shot: `backup` then exit, on the same interval. `produce` is the render producer.
"""

from __future__ import annotations

from typing import Any

from infra import yamlio
from infra.host import layout
from infra.settings import Settings
from infra.stack import backup, gateway
from infra.stack.spec import StackSpec

# --- bare metal -----------------------------------------------------------------------------

UNIT = "friday-backup"
HOST_TOOL_DIR = "/opt/friday-backup"
TEXTFILE_NAME = "friday_backup.prom"


def on_calendar(hours: int) -> str:
    return "*-*-* 00:00:00" if hours == 24 else f"*-*-* 00/{hours}:00:00"


def cron_schedule(hours: int) -> str:
    return "0 0 * * *" if hours == 24 else f"0 */{hours} * * *"


def textfile_path(settings: Settings) -> str:
    return f"{settings.backup_textfile_dir}/{TEXTFILE_NAME}"


def systemd_service(settings: Settings) -> str:
    """The one-shot backup, with the data folder, user and group of the gateway's own unit
    (infra/host/layout.py): the two units cannot disagree about whose files they touch."""
    data_dir = layout.data_dir(settings)
    user, group = layout.service_user(settings)
    command = " ".join(
        backup.tool_command(settings, "backup", data_dir=data_dir, backup_dir=settings.backup_host_dir)
    ).replace("python3 ", "/usr/bin/python3 ", 1)
    return f"""[Unit]
Description=Online backup of the F.R.I.D.A.Y. gateway databases
# How to restore: docs/backups.md of friday-infra, or
#   PYTHONPATH={HOST_TOOL_DIR} python3 -m {backup.PACKAGE} restore --help
# Reads the gateway's WAL databases while it runs; needs the data folder mounted.
RequiresMountsFor={data_dir} {settings.backup_host_dir}

[Service]
Type=oneshot
# The gateway's own user: it can read its databases and update their -shm index.
User={user}
Group={group}
Environment=PYTHONPATH={HOST_TOOL_DIR} PYTHONDONTWRITEBYTECODE=1
ExecStartPre=/usr/bin/mkdir -p {settings.backup_host_dir}
ExecStart={command} --textfile {textfile_path(settings)}
UMask=0077
Nice=10
IOSchedulingClass=idle
NoNewPrivileges=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectHome=yes
ProtectSystem=strict
ReadWritePaths={data_dir} {settings.backup_host_dir} {settings.backup_textfile_dir}
TimeoutStartSec=1h
"""


def systemd_timer(settings: Settings) -> str:
    return f"""[Unit]
Description=Back up the F.R.I.D.A.Y. gateway databases every {settings.backup_interval_hours}h

[Timer]
OnCalendar={on_calendar(settings.backup_interval_hours)}
# Catch up on a run missed while the host was off.
Persistent=true
RandomizedDelaySec=5m
Unit={UNIT}.service

[Install]
WantedBy=timers.target
"""


# --- Kubernetes -----------------------------------------------------------------------------

GATEWAY_SELECTOR = {"app.kubernetes.io/name": gateway.NAME, "app.kubernetes.io/part-of": "friday"}


def kubernetes_objects(settings: Settings) -> list[dict[str, Any]]:
    """ConfigMap (the tool), PVC (the backups) and CronJob, in the stack's namespace."""
    ns = settings.kubernetes_namespace
    prefix = settings.name_prefix
    labels = {"app.kubernetes.io/name": backup.NAME, "app.kubernetes.io/part-of": "friday"}
    config_map = f"{prefix}-backup-tool"
    claim = f"{prefix}-{backup.VOLUME}"
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
                                    "persistentVolumeClaim": {"claimName": f"{prefix}-{gateway.DATA_VOLUME}"},
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


# --- render ---------------------------------------------------------------------------------

SYSTEMD_DIR = "host/systemd"
HOST_TOOL_RENDER_DIR = "host/friday-backup"
KUBERNETES_FILE = "kubernetes/backup-cronjob.yaml"


def produce(settings: Settings, spec: StackSpec) -> dict[str, str]:
    out = {
        f"{SYSTEMD_DIR}/{UNIT}.service": systemd_service(settings),
        f"{SYSTEMD_DIR}/{UNIT}.timer": systemd_timer(settings),
        KUBERNETES_FILE: yamlio.safe_dump_all(kubernetes_objects(settings), sort_keys=False, width=1000),
    }
    for name, text in backup.tool_sources().items():
        out[f"{HOST_TOOL_RENDER_DIR}/{backup.PACKAGE}/{name}"] = text
    return out
