"""Backup scheduling artefacts, each checked by the tool that reads it (systemd; the CronJob: tests/kubernetes)."""

from __future__ import annotations

import itertools
import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra.host import backup as host_backup
from infra.render import artefacts
from infra.settings import SettingsError, load_stack
from infra.stack import backup, build_stack, gateway
from infra.targets.kubernetes_map import tasks as kubernetes_tasks
from testbed.settings import settings_of

STACKS = ["dev", "prod"]


def write(files: dict[str, str], root: Path) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def tool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=120, cwd=cwd, check=False)


@pytest.mark.parametrize("stack", STACKS)
def test_systemd_units_verify(stack: str, tmp_path: Path) -> None:
    s = load_stack(stack)
    out = write(artefacts(s), tmp_path)
    units = out / host_backup.SYSTEMD_DIR
    service, timer = units / f"{host_backup.UNIT}.service", units / f"{host_backup.UNIT}.timer"
    done = tool("systemd-analyze", "verify", str(service), str(timer))
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", done.stderr
    text = service.read_text()
    assert f"User={s.host_user}\n" in text
    assert f"--backup-dir {s.backup_host_dir} " in text
    assert f"--retention {s.backup_retention_count} " in text
    assert "ProtectSystem=strict" in text
    # Negative control: verify really reads the file (a missing program is an error).
    broken = units / "broken.service"
    broken.write_text(text.replace("/usr/bin/python3", "/usr/bin/no-such-python"))
    assert tool("systemd-analyze", "verify", str(broken)).returncode != 0


@pytest.mark.parametrize("hours", [1, 2, 3, 4, 6, 8, 12, 24])
def test_schedules_match_the_interval(hours: int) -> None:
    spec = host_backup.on_calendar(hours)
    done = tool("systemd-analyze", "calendar", "--iterations", "3", spec)
    assert done.returncode == 0, done.stderr
    # Consecutive runs are `hours` apart.
    times = [line.split()[-2] for line in done.stdout.splitlines() if "Next elapse" in line or "Iter." in line]
    hh = [int(t.split(":")[0]) for t in times]
    assert len(hh) == 3
    assert all((b - a) % 24 == hours % 24 for a, b in itertools.pairwise(hh))
    minute, hour, *rest = kubernetes_tasks.cron_schedule(hours).split()
    assert minute == "0" and rest == ["*", "*", "*"]
    assert hour == ("0" if hours == 24 else f"*/{hours}")


def test_docker_backup_service_shares_the_gateway_volume_as_its_user() -> None:
    s = load_stack("dev")
    spec = build_stack(s)
    svc, gw = spec.task(backup.NAME).resident_service(), spec.service(gateway.NAME)
    assert (svc.uid, svc.gid) == (gw.uid, gw.gid)
    mounts = {m.path: m for m in svc.mounts}
    assert mounts[gateway.DATA_DIR].volume == gateway.DATA_VOLUME
    assert not mounts[gateway.DATA_DIR].read_only  # WAL readers write the -shm
    assert mounts[backup.BACKUP_DIR].volume == backup.VOLUME
    assert svc.published() == () and [p.number for p in svc.ports] == [s.backup_metrics_port]
    assert svc.metrics is not None and svc.metrics.port == svc.ports[0].name
    assert svc.read_only_root and [t.path for t in svc.scratch] == ["/tmp"]
    assert svc.image.tag != "latest"
    shipped = {Path(f.path).name: f.content for f in svc.files}
    assert shipped == backup.tool_sources()
    assert str(s.backup_interval_hours * 3600) in svc.command


@pytest.mark.parametrize(
    ("plain", "expected"),
    [
        ({"backupIntervalHours": 12, "backupStaleAfterHours": 12}, "backupStaleAfterHours = 12 must exceed"),
        ({"backupIntervalHours": 5}, "friday:backupIntervalHours = 5: must be one of 1, 2, 3, 4, 6, 8, 12, 24"),
        ({"backupHostDir": "~/backups"}, "friday:backupHostDir = '~/backups'"),
        ({"backupRetentionCount": 0}, "friday:backupRetentionCount = 0"),
        ({"backupTag": "latest"}, "friday:backupTag = 'latest'"),
    ],
)
def test_bad_backup_settings_are_refused(plain: dict[str, Any], expected: str) -> None:
    with pytest.raises(SettingsError) as err:
        settings_of(plain)
    assert expected in str(err.value)


def test_the_backup_is_declared_once_and_every_target_runs_that_declaration() -> None:
    s = settings_of({"backupIntervalHours": 6, "backupRetentionCount": 9, "hostDataDir": "/srv/gw"})
    spec = build_stack(s)
    task = spec.task(backup.NAME)
    assert task.every_hours == 6 and "--retention" in task.command and "9" in task.command
    assert backup.NAME not in [svc.name for svc in spec.services], "the backup is a task, not a second service"
    # Kubernetes: the task's command as it is.
    cron = next(d for d in kubernetes_tasks.task_objects(s, spec, task) if d["kind"] == "CronJob")
    [container] = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert container["command"] == list(task.command)
    assert cron["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"] == task.deadline_s
    # Bare metal: the same command, its volumes' paths replaced by the host's folders.
    unit = host_backup.systemd_service(s, task)
    exec_start = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    expected = [
        a.replace(gateway.DATA_DIR, "/srv/gw").replace(backup.BACKUP_DIR, s.backup_host_dir) for a in task.command
    ]
    assert exec_start.removeprefix("ExecStart=").split()[: len(expected)] == ["/usr/bin/python3", *expected[1:]]
    assert "OnCalendar=*-*-* 00/6:00:00" in host_backup.systemd_timer(task)
    # Docker: the resident form runs the same tool with the same options, on the same interval.
    resident = task.resident_service()
    assert resident.command[4:][: len(task.command) - 4] == task.command[4:]
    assert str(6 * 3600) in resident.command
    assert (resident.uid, resident.gid, resident.resources) == (task.uid, task.gid, task.resources)
