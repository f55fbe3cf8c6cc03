"""Off-host copies with restic to an S3 API server on 127.0.0.1 (moto), and the restore drill from it.

The drill runs the real gateway: its databases are backed up and sent to the store, the data folder
is wiped, restored from the store alone (the local backups are deleted first), and a real gateway
boots on the result with the same secrets: healthy, its audit chain valid and longer than before,
the API key made before the backup still accepted. Wrong credentials, an unreachable store and a
damaged pack file each fail with a clear message, count in friday_backup_offsite_failures_total and
leave the local backup complete.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from infra.backup import core, metrics
from infra.settings import Settings
from infra.stack import backup as backup_task
from infra.stack.spec import SecretRef
from testbed.paths import REPO_ROOT
from testbed.processes import free_port, read_line, wait_for
from testbed.s3_store import BUCKET, S3Store, s3_store
from tests.support.databases import make_db
from tests.support.offsite_settings import ON as OFFSITE_ON
from tests.support.offsite_settings import settings as offsite_settings
from tests.support.real_gateway import RealGateway, secret_env

TIMEOUT_S = 300


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Store]:
    with s3_store(tmp_path_factory.mktemp("moto")) as s3:
        yield s3


def tool(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "infra.backup", *args],
        cwd=REPO_ROOT,
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **env},
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )


def backup(data: Path, backups: Path, prom: Path, repo: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return tool(
        "backup", "--data-dir", str(data), "--backup-dir", str(backups), "--retention", "3",
        "--textfile", str(prom), "--offsite-repository", repo, "--offsite-keep-last", "2",
        env=env,
    )  # fmt: skip


def restore(data: Path, backups: Path, repo: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return tool(
        "restore", "--from-offsite", "--data-dir", str(data), "--backup-dir", str(backups),
        "--offsite-repository", repo, "--gateway-stopped",
        env=env,
    )  # fmt: skip


def textfile(prom: Path) -> dict[str, float]:
    return {s.name: s.value for f in text_string_to_metric_families(prom.read_text()) for s in f.samples}


def offsite_failures(backups: Path) -> float:
    return metrics.load_state(backups).offsite_failures


def snapshot_of(data: Path) -> dict[str, str]:
    return {p.name: core.sha256_of(p) for p in sorted(data.glob("*.db"))}


def test_restore_drill_from_offsite_boots_the_real_gateway(store: S3Store, tmp_path: Path) -> None:
    repo, password = store.repository("drill"), secrets.token_urlsafe(24)
    env = store.env(password)
    backups, prom = tmp_path / "backups", tmp_path / "friday_backup.prom"
    gateway_env = secret_env(secrets.token_urlsafe(24))
    with RealGateway.start(tmp_path / "gw", env=gateway_env) as gw:
        key = gw.create_api_key(name="before-backup")
        data = gw.data_dir
        before = audit_verify(gw.url, key)
        assert before["valid"] is True and before["entriesChecked"] >= 2, before
        # Online: the gateway keeps running while the tool copies its databases and sends them.
        done = backup(data, backups, prom, repo, env)
        assert done.returncode == 0, done.stderr
    assert "off-host copy of" in done.stderr and password not in done.stderr + done.stdout
    values = textfile(prom)
    [local] = [b for b in core.list_backups(backups) if b.complete]
    assert values[metrics.OFFSITE_LAST_SUCCESS] >= local.finished
    assert values[metrics.OFFSITE_FAILURES] == 0
    # Everything in the bucket is restic's (encrypted): no database name, no plain SQLite header.
    stored = store.keys("drill/")
    assert any(k.startswith("drill/data/") for k in stored) and "drill/config" in stored, stored
    for k in stored:
        assert b"SQLite format 3" not in store.client().get_object(Bucket=BUCKET, Key=k)["Body"].read()

    # The disaster: the data folder and every local backup are gone.
    shutil.rmtree(data)
    shutil.rmtree(backups)
    done = restore(data, backups, repo, env)
    assert done.returncode == 0, done.stderr
    assert local.manifest is not None
    # Every database came back (restore put them back in WAL mode, so their bytes differ from the copies').
    assert set(snapshot_of(data)) == {e["name"] for e in local.manifest["databases"]}
    # The staging folder is gone; nothing from the store is left as a "local backup".
    assert [p.name for p in backups.iterdir() if not p.name.startswith(".") and p.name != core.STATE] == []

    with RealGateway.start(tmp_path / "gw", env=gateway_env) as gw:
        after = audit_verify(gw.url, key)
        # The first gateway's entries came back and the new start appended to them; the chain holds.
        assert after["valid"] is True, after
        assert after["entriesChecked"] > before["entriesChecked"], (before, after)


def audit_verify(url: str, key: str) -> dict[str, Any]:
    """POST /api/v1/audit/verify with an admin API key: {valid, entriesChecked[, error]}."""
    answer = requests.post(f"{url}/api/v1/audit/verify", headers={"X-API-Key": key}, timeout=30)
    assert answer.status_code == 200, (answer.status_code, answer.text)
    verdict: dict[str, Any] = answer.json()
    return verdict


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    make_db(folder / "audit.db")
    make_db(folder / "tasks.db")
    return folder


def assert_local_backup_intact(backups: Path, count: int) -> None:
    complete = [b for b in core.list_backups(backups) if b.complete]
    assert len(complete) == count
    for b in complete:
        assert core.verify(b.path) == []


def test_wrong_credentials_fail_clearly_and_keep_the_local_backup(store: S3Store, data: Path, tmp_path: Path) -> None:
    repo, password = store.repository("wrong-credentials"), secrets.token_urlsafe(24)
    backups, prom = tmp_path / "backups", tmp_path / "friday_backup.prom"
    bad = store.env(password, secret="not-" + store.secret_access_key)
    done = backup(data, backups, prom, repo, bad)
    assert done.returncode == 1
    assert "the object store refused the credentials" in done.stderr, done.stderr
    assert bad["AWS_SECRET_ACCESS_KEY"] not in done.stderr + done.stdout
    assert_local_backup_intact(backups, 1)
    assert textfile(prom)[metrics.OFFSITE_FAILURES] == 1
    # The local backup itself counted as a success.
    assert textfile(prom)["friday_backup_failures_total"] == 0
    # With the right key, the next run sends; a wrong repository password is then refused too.
    assert backup(data, backups, prom, repo, store.env(password)).returncode == 0
    done = backup(data, backups, prom, repo, store.env("not-" + password))
    assert done.returncode == 1 and "the restic repository password is wrong" in done.stderr, done.stderr
    assert textfile(prom)[metrics.OFFSITE_FAILURES] == 2
    # A restore with the wrong key fails before touching the data folder.
    before = snapshot_of(data)
    done = restore(data, backups, repo, bad)
    assert done.returncode == 1 and "refused the credentials" in done.stderr, done.stderr
    assert "local backups in" in done.stderr
    assert snapshot_of(data) == before
    assert offsite_failures(backups) == 3
    assert_local_backup_intact(backups, 3)


def test_unreachable_store_fails_clearly_and_keeps_the_local_backup(data: Path, tmp_path: Path) -> None:
    repo = f"s3:http://127.0.0.1:{free_port()}/{BUCKET}/nobody-listens"
    env = {"AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret", "RESTIC_PASSWORD": "pw"}
    backups, prom = tmp_path / "backups", tmp_path / "friday_backup.prom"
    done = backup(data, backups, prom, repo, env)
    assert done.returncode == 1
    assert "the object store is unreachable" in done.stderr, done.stderr
    assert_local_backup_intact(backups, 1)
    values = textfile(prom)
    assert values[metrics.OFFSITE_FAILURES] == 1
    assert values[metrics.OFFSITE_LAST_SUCCESS] == 0
    before = snapshot_of(data)
    done = restore(data, backups, repo, env)
    assert done.returncode == 1 and "the object store is unreachable" in done.stderr, done.stderr
    assert snapshot_of(data) == before
    assert offsite_failures(backups) == 2
    assert_local_backup_intact(backups, 1)


def test_damaged_snapshot_fails_the_restore_and_keeps_the_local_backup(
    store: S3Store, data: Path, tmp_path: Path
) -> None:
    repo, password = store.repository("damaged"), secrets.token_urlsafe(24)
    env = store.env(password)
    backups, prom = tmp_path / "backups", tmp_path / "friday_backup.prom"
    assert backup(data, backups, prom, repo, env).returncode == 0
    # Damage every pack file of the repository in the bucket (same size, bytes flipped mid-file).
    client = store.client()
    packs = store.keys("damaged/data/")
    assert packs
    for k in packs:
        body = bytearray(client.get_object(Bucket=BUCKET, Key=k)["Body"].read())
        middle = len(body) // 2
        body[middle : middle + 16] = bytes(b ^ 0xFF for b in body[middle : middle + 16])
        client.put_object(Bucket=BUCKET, Key=k, Body=bytes(body))
    target = tmp_path / "restored"
    done = restore(target, backups, repo, env)
    assert done.returncode == 1
    assert "the repository's data is damaged" in done.stderr, done.stderr
    assert not list(target.glob("*.db")) if target.exists() else True
    assert offsite_failures(backups) == 1
    assert_local_backup_intact(backups, 1)
    assert not list(backups.glob(".offsite-restore-*"))


def _offsite_on(stack: str) -> Settings:
    """A stack with off-host copies on, to this test's bucket (the endpoint is replaced by the store's)."""
    return offsite_settings(
        {**OFFSITE_ON, "friday:backupOffsiteEndpoint": "https://s3.example.org", "friday:backupOffsiteBucket": BUCKET},
        stack,
    )


def test_the_docker_service_sends_off_host_and_serves_the_metrics(store: S3Store, data: Path, tmp_path: Path) -> None:
    """The resident service exactly as the Docker target runs it with off-host copies on (its files, its
    command, restic's secrets in its environment), on Debian's python3 -S and restic: /metrics shows the
    off-host copy's time and a failure count of 0."""
    settings = _offsite_on("dev")
    service = backup_task.build(settings).tasks[0].resident_service()
    tool_dir, backups = tmp_path / "etc", tmp_path / "backups"
    for f in service.files:
        path = tool_dir / Path(f.path).relative_to(backup_task.CONFIG_DIR)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f.content)
    command = list(service.command)
    swap = {
        "--data-dir": str(data),
        "--backup-dir": str(backups),
        "--interval-seconds": "3600",
        "--listen": "127.0.0.1:0",
        "--offsite-repository": store.repository("serve"),
    }
    for i, arg in enumerate(command):
        if arg in swap:
            command[i + 1] = swap[arg]
    secret_values = store.env(secrets.token_urlsafe(24))
    env = {k: (secret_values[k] if isinstance(v, SecretRef) else v) for k, v in service.env.items()}
    assert set(secret_values) <= set(env)
    proc = subprocess.Popen(
        ["/usr/bin/python3", "-S", *command[1:]],
        env={**env, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(tool_dir), "TMPDIR": str(tmp_path)},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = 0
        for _ in range(20):
            if m := re.search(r"serving metrics on http://127\.0\.0\.1:(\d+)/metrics", read_line(proc.stderr, 20)):
                port = int(m.group(1))
                break
        assert port

        def sent() -> dict[str, float] | None:
            text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            got = {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples}
            return got if got.get(metrics.OFFSITE_LAST_SUCCESS, 0) > 0 else None

        scraped = wait_for("the off-host copy in /metrics", sent, 60)
        assert scraped[metrics.OFFSITE_FAILURES] == 0
        assert scraped[metrics.OFFSITE_LAST_SUCCESS] >= scraped[metrics.LAST_SUCCESS]
        assert store.keys("serve/snapshots/")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_the_kubernetes_steps_back_up_then_copy_the_newest_backup_off_host(
    store: S3Store, data: Path, tmp_path: Path
) -> None:
    """Where the copy is a job of its own (Kubernetes: ScheduledTask.steps), the two steps' commands as the
    CronJobs run them: the backup step has no off-host argument or secret; the off-host step sends the
    newest complete backup (its name tagged on the snapshot), fails clearly with no backup or a refused
    key, counts each failure and leaves the local backups as they are."""
    settings = _offsite_on("prod")
    [task] = backup_task.build(settings).tasks
    local, offsite = task.steps
    assert offsite.name == backup_task.OFFSITE_STEP
    assert not any("offsite" in a for a in local.command) and local.egress_ports == ()
    assert not any(isinstance(v, SecretRef) for v in local.env.values())
    backups, repo = tmp_path / "backups", store.repository("steps")
    swap = {"--data-dir": str(data), "--backup-dir": str(backups), "--offsite-repository": repo}

    def run(step_command: tuple[str, ...], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        args = list(step_command[3:])
        for i, arg in enumerate(args[:-1]):
            if arg in swap:
                args[i + 1] = swap[arg]
        return tool(*args, env=env)

    password = secrets.token_urlsafe(24)
    backups.mkdir()
    done = run(offsite.command, store.env(password))
    assert done.returncode == 1 and "no complete backup in" in done.stderr, done.stderr
    assert offsite_failures(backups) == 1
    assert run(local.command, {}).returncode == 0
    assert_local_backup_intact(backups, 1)
    bad = store.env(password, secret="not-" + store.secret_access_key)
    done = run(offsite.command, bad)
    assert done.returncode == 1 and "the object store refused the credentials" in done.stderr, done.stderr
    assert "local backups untouched" in done.stderr
    assert offsite_failures(backups) == 2 and metrics.load_state(backups).offsite_last_success == 0
    assert run(local.command, {}).returncode == 0
    done = run(offsite.command, store.env(password))
    assert done.returncode == 0, done.stderr
    state = metrics.load_state(backups)
    assert state.offsite_last_success > 0 and state.offsite_failures == 2
    newest = core.latest_complete(backups)
    assert newest is not None
    listed = subprocess.run(
        ["restic", "-r", repo, "snapshots", "--json"],
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **store.env(password)},
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=True,
    )
    assert [s["tags"] for s in json.loads(listed.stdout)] == [["friday-backup", f"name={newest.name}"]]
    assert_local_backup_intact(backups, 2)
