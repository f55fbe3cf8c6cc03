"""The backup on bare metal: a one-shot systemd service and its timer, and the tool they run.

Docker runs the long-lived service of infra/stack/backup.py. The same tool runs here as a
one-shot: `backup` then exit, on the same interval. `produce` is the render producer.
"""

from __future__ import annotations

from infra.host import layout
from infra.settings import Settings
from infra.stack import backup
from infra.stack.spec import StackSpec

UNIT = "friday-backup"
HOST_TOOL_DIR = "/opt/friday-backup"
TEXTFILE_NAME = "friday_backup.prom"


def on_calendar(hours: int) -> str:
    return "*-*-* 00:00:00" if hours == 24 else f"*-*-* 00/{hours}:00:00"


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


SYSTEMD_DIR = "host/systemd"
HOST_TOOL_RENDER_DIR = "host/friday-backup"


def produce(settings: Settings, spec: StackSpec) -> dict[str, str]:
    out = {
        f"{SYSTEMD_DIR}/{UNIT}.service": systemd_service(settings),
        f"{SYSTEMD_DIR}/{UNIT}.timer": systemd_timer(settings),
    }
    for name, text in backup.tool_sources().items():
        out[f"{HOST_TOOL_RENDER_DIR}/{backup.PACKAGE}/{name}"] = text
    return out
