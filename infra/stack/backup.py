"""The backup, declared once as a scheduled task of the stack: a stock Python slim image running
infra/backup (`backup`, then exit) every backupIntervalHours.

Kubernetes runs it as a CronJob, bare metal as a systemd timer (infra/host/backup.py), Docker as
its resident form: the same tool's `serve` loop, which keeps the schedule itself and serves
/metrics and /health. The tool is standard-library only, so no image is built: its source files
are delivered like config files (into config_dir) and run as the package `friday_backup`.
It runs as the gateway's uid/gid so it can read the gateway's data volume, and it mounts that
volume read-write on purpose: a WAL-mode reader must update the database's -shm index (and
create -wal/-shm when the gateway is stopped); the tool never writes the databases themselves.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from infra.metrics import jobs
from infra.settings import Settings
from infra.stack import backup_offsite, gateway
from infra.stack.parts import Part
from infra.stack.spec import (
    Amount,
    ConfigFile,
    Health,
    HttpCheck,
    Image,
    Metrics,
    Mount,
    Port,
    Resident,
    Resources,
    ScheduledTask,
    Volume,
)

NAME = jobs.BACKUP
VOLUME = "backups"
PACKAGE = "friday_backup"
CONFIG_DIR = "/etc/friday-backup"
BACKUP_DIR = "/backups"
SOURCE_DIR = Path(__file__).resolve().parents[1] / "backup"
METRICS_PATH = "/metrics"
HEALTH_PATH = "/health"
METRICS = "metrics"  # the name of its one port
# A backup reads a few databases at a time: small, and the same for every target.
RESOURCES = Resources(
    requests=Amount(memory_mb=64, cpu_millicores=100), limits=Amount(memory_mb=256, cpu_millicores=500)
)
# A run still going after an hour is stopped (a backup of a few databases takes seconds).
DEADLINE_S = 3600
# Where the off-host copy is a step of its own (ScheduledTask.steps: Kubernetes), its name and when it
# starts: this many minutes after the backup (a backup of a few databases takes seconds; a copy that
# finds the backup still running fails and is retried by its Job).
OFFSITE_STEP = f"{NAME}-offsite"
OFFSITE_START_MINUTE = 15
# The image has python3 and nothing else to fetch a URL with.
PYTHON_FETCH = ("python3", "-c", "import urllib.request; urllib.request.urlopen('{url}', timeout=4)")


def tool_sources() -> dict[str, str]:
    """The tool's modules: {file name: source}. What the container, the CronJob and the host run."""
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(SOURCE_DIR.glob("*.py"))}


def interval_seconds(settings: Settings) -> int:
    return settings.backup_interval_hours * 3600


def tool_command(settings: Settings, verb: str, *, data_dir: str, backup_dir: str) -> tuple[str, ...]:
    return _command(settings, verb, data_dir=data_dir, backup_dir=backup_dir, offsite=True)


def _command(settings: Settings, verb: str, *, data_dir: str, backup_dir: str, offsite: bool) -> tuple[str, ...]:
    return (
        "python3",
        "-m",
        PACKAGE,
        verb,
        "--data-dir",
        data_dir,
        "--backup-dir",
        backup_dir,
        "--retention",
        str(settings.backup_retention_count),
        # Off-host copies after each verified backup, when enabled (infra/stack/backup_offsite.py).
        *(backup_offsite.arguments(settings) if offsite else ()),
    )


def steps(settings: Settings, task: ScheduledTask) -> tuple[ScheduledTask, ...]:
    """With off-host copies on, where only a run's success is seen (Kubernetes), two tasks: the local
    backup, and OFFSITE_STEP (the newest complete backup to the object store, OFFSITE_START_MINUTE
    later), so BackupStale and BackupOffsiteStale each judge their own step. Off: none (the task)."""
    if not settings.backup_offsite_enabled:
        return ()
    secrets = backup_offsite.env(settings)
    local = replace(
        task,
        command=_command(settings, "backup", data_dir=gateway.DATA_DIR, backup_dir=BACKUP_DIR, offsite=False),
        env={k: v for k, v in task.env.items() if k not in secrets},
        egress_ports=(),
    )
    offsite = replace(
        task,
        name=OFFSITE_STEP,
        command=("python3", "-m", PACKAGE, "offsite", "--backup-dir", BACKUP_DIR, *backup_offsite.arguments(settings)),
        # The backups only: the copy never reads the gateway's databases.
        mounts=(Mount(VOLUME, BACKUP_DIR),),
        start_minute=OFFSITE_START_MINUTE,
    )
    return (local, offsite)


def build(settings: Settings) -> Part:
    volume = Volume(
        name=VOLUME,
        purpose="backups of the gateway databases (one folder per backup, manifest last)",
        owner_uid=settings.gateway_uid,
        owner_gid=settings.gateway_gid,
    )
    port = settings.backup_metrics_port
    paths = {"data_dir": gateway.DATA_DIR, "backup_dir": BACKUP_DIR}
    task = ScheduledTask(
        name=NAME,
        image=Image(settings.backup_image, settings.backup_tag),
        # The gateway's ids: it reads the gateway's databases and owns the backups.
        uid=settings.gateway_uid,
        gid=settings.gateway_gid,
        resources=RESOURCES,
        command=tool_command(settings, "backup", **paths),
        every_hours=settings.backup_interval_hours,
        deadline_s=DEADLINE_S,
        resident=Resident(
            command=(
                *tool_command(settings, "serve", **paths),
                "--interval-seconds",
                str(interval_seconds(settings)),
                "--listen",
                f"0.0.0.0:{port}",
            ),
            health=Health(HttpCheck(METRICS, HEALTH_PATH, PYTHON_FETCH), interval_s=60, start_period_s=30),
            ports=(Port(METRICS, port),),
            metrics=Metrics(METRICS, METRICS_PATH),
            # A running copy finishes within seconds; SIGTERM ends the loop between steps.
            stop_grace_s=60,
            # Its first backup runs at start: only once the gateway is up do its databases exist. Started
            # beside the gateway, that run found none, and the next came a whole interval later, so on
            # every new Docker stack BackupStale fired 10 minutes in (the engine suite saw it pending).
            depends_on=(gateway.NAME,),
        ),
        env={
            "PYTHONPATH": CONFIG_DIR,
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            **backup_offsite.env(settings),
        },
        mounts=(Mount(gateway.DATA_VOLUME, gateway.DATA_DIR), Mount(VOLUME, BACKUP_DIR)),
        egress_ports=(backup_offsite.endpoint_port(settings),) if settings.backup_offsite_enabled else (),
        config_dir=CONFIG_DIR,
        files=tuple(
            ConfigFile(f"{CONFIG_DIR}/{PACKAGE}/{name}", text) for name, text in sorted(tool_sources().items())
        ),
    )
    return Part(tasks=(replace(task, steps=steps(settings, task)),), volumes=(volume,))
