"""The backup on bare metal: the stack's backup task (infra/stack/backup.py) as a one-shot systemd
service and its timer, and the tool's files they run. `produce` is the render producer.

The command, environment, schedule and deadline are the task's; what is the host's own: the
folders its volumes are (the gateway's data folder, backupHostDir), where the tool's files are
installed, the user, and the metrics file for node-exporter's textfile collector (no scrape
endpoint on a host without the resident form).
"""

from __future__ import annotations

from pathlib import PurePosixPath

from infra.host import layout
from infra.settings import Settings
from infra.stack import backup, gateway
from infra.stack.spec import ScheduledTask, StackSpec

UNIT = "friday-backup"
HOST_TOOL_DIR = "/opt/friday-backup"
TEXTFILE_NAME = "friday_backup.prom"


def on_calendar(hours: int) -> str:
    return "*-*-* 00:00:00" if hours == 24 else f"*-*-* 00/{hours}:00:00"


def textfile_path(settings: Settings) -> str:
    return f"{settings.backup_textfile_dir}/{TEXTFILE_NAME}"


def task(spec: StackSpec) -> ScheduledTask:
    return spec.task(backup.NAME)


def host_dirs(settings: Settings) -> dict[str, str]:
    """Where the task's volumes are on the host: the gateway's data folder (the same setting the
    gateway's own unit uses, infra/host/layout.py) and the backup folder."""
    return {gateway.DATA_VOLUME: layout.data_dir(settings), backup.VOLUME: settings.backup_host_dir}


def host_command(settings: Settings, scheduled: ScheduledTask) -> tuple[str, ...]:
    """The task's one run with its in-container paths replaced by the host's."""
    dirs = host_dirs(settings)
    paths = {m.path: dirs[m.volume] for m in scheduled.mounts}
    program, *args = scheduled.command
    # systemd wants the interpreter by its full path; Debian's python3.
    return (f"/usr/bin/{program}", *(paths.get(a, a) for a in args))


def host_env(scheduled: ScheduledTask) -> str:
    """The task's environment, its files' folder replaced by where the host keeps them."""
    items = []
    for key, value in scheduled.env.items():
        assert isinstance(value, str), "the backup task has no secrets"
        items.append(f"{key}={HOST_TOOL_DIR if value == scheduled.config_dir else value}")
    return " ".join(items)


def timeout(seconds: int) -> str:
    return f"{seconds // 3600}h" if seconds % 3600 == 0 else f"{seconds}s"


def systemd_service(settings: Settings, scheduled: ScheduledTask) -> str:
    """The one-shot backup, with the data folder, user and group of the gateway's own unit
    (infra/host/layout.py): the two units cannot disagree about whose files they touch."""
    data_dir = layout.data_dir(settings)
    user, group = layout.service_user(settings)
    command = " ".join(host_command(settings, scheduled))
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
Environment={host_env(scheduled)}
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
TimeoutStartSec={timeout(scheduled.deadline_s)}
"""


def systemd_timer(scheduled: ScheduledTask) -> str:
    return f"""[Unit]
Description=Back up the F.R.I.D.A.Y. gateway databases every {scheduled.every_hours}h

[Timer]
OnCalendar={on_calendar(scheduled.every_hours)}
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
    scheduled = task(spec)
    out = {
        f"{SYSTEMD_DIR}/{UNIT}.service": systemd_service(settings, scheduled),
        f"{SYSTEMD_DIR}/{UNIT}.timer": systemd_timer(scheduled),
    }
    assert scheduled.config_dir is not None
    for f in scheduled.files:
        out[f"{HOST_TOOL_RENDER_DIR}/{PurePosixPath(f.path).relative_to(scheduled.config_dir)}"] = f.content
    return out
