"""`python -m infra.backup`: bad input fails clearly and never leaves a backup that looks complete."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from infra.backup import core, metrics
from infra.stack.backup import PACKAGE, SOURCE_DIR
from testbed.paths import REPO_ROOT
from testbed.processes import read_line
from tests.support.databases import make_db

NOBODY = 65534
# How long a helper process may take to say it is ready.
READY_TIMEOUT_S = 30.0


def run(*args: str, preexec: Callable[[], None] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "infra.backup", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=preexec,
        check=False,
    )


def count(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT count(*) FROM rows").fetchone()[0])
    finally:
        conn.close()


@pytest.fixture
def data(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    for name in ("audit.db", "tasks.db"):
        make_db(d / name)
    return d


def looks_complete(backup_dir: Path) -> list[str]:
    """Anything in backup_dir that a reader could take for a complete backup."""
    if not backup_dir.exists():
        return []
    found = [p.name for p in backup_dir.iterdir() if p.is_dir() and core.NAME_RE.match(p.name)]
    found += [str(p.relative_to(backup_dir)) for p in backup_dir.rglob(core.MANIFEST)]
    return found


def backup_args(data: Path, backups: Path, *extra: str) -> list[str]:
    return ["backup", "--data-dir", str(data), "--backup-dir", str(backups), "--retention", "3", *extra]


def test_backup_verify_list_and_metrics_textfile(data: Path, tmp_path: Path) -> None:
    backups, prom = tmp_path / "backups", tmp_path / "textfile" / "friday_backup.prom"
    prom.parent.mkdir()
    done = run(*backup_args(data, backups, "--textfile", str(prom)))
    assert done.returncode == 0, done.stderr
    [b] = core.list_backups(backups)
    manifest = json.loads((b.path / core.MANIFEST).read_text())
    assert {e["name"] for e in manifest["databases"]} == {"audit.db", "tasks.db"}
    for entry in manifest["databases"]:
        copy = b.path / entry["name"]
        assert entry["size"] == copy.stat().st_size
        assert entry["sha256"] == core.sha256_of(copy)
        assert entry["integrity_check"] == "ok"
    assert "brain.db is not in the data folder" in done.stderr
    assert run("verify", "--backup-dir", str(backups)).returncode == 0
    listed = json.loads(run("list", "--backup-dir", str(backups), "--json").stdout)
    assert listed == [{"name": b.name, "complete": True, "finished_ts": b.finished, "total_bytes": b.size}]

    text = prom.read_text()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    # The parser strips _total from counter family names.
    names = {f.name + ("_total" if f.type == "counter" else "") for f in families.values()}
    # Without --offsite-repository, the off-host metrics are not exposed (their alert cannot fire).
    assert names == {m.name for m in metrics.METRICS if not m.offsite}
    value = families[metrics.LAST_SUCCESS].samples[0].value
    assert value == pytest.approx(manifest["finished_ts"])
    assert families["friday_backup_failures"].samples[0].value == 0
    check = subprocess.run(
        ["promtool", "check", "metrics"], input=text, capture_output=True, text=True, check=False, timeout=60
    )
    assert check.returncode == 0, check.stdout + check.stderr

    # A failed run counts a failure and keeps the last success.
    shutil.rmtree(data)
    failed = run(*backup_args(data, backups, "--textfile", str(prom)))
    assert failed.returncode == 1
    families = {f.name: f for f in text_string_to_metric_families(prom.read_text())}
    assert families["friday_backup_failures"].samples[0].value == 1
    assert families[metrics.LAST_SUCCESS].samples[0].value == pytest.approx(manifest["finished_ts"])


def test_retention_keeps_the_newest_complete_and_cleans_leftovers(data: Path, tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    names = []
    for _ in range(4):
        names.append(core.backup(data, backups, retention=2).info.name)
    assert [b.name for b in core.list_backups(backups)] == names[-2:]
    # Leftovers of an interrupted run: a partial folder, and a final-looking one without manifest.
    (backups / f"{core.PARTIAL_PREFIX}20260101T000000.000000Z").mkdir()
    (backups / "20260101T000000.000000Z").mkdir()
    assert [b.complete for b in core.list_backups(backups)] == [False, True, True]
    result = core.backup(data, backups, retention=2)
    assert set(result.removed) == {
        f"{core.PARTIAL_PREFIX}20260101T000000.000000Z",
        "20260101T000000.000000Z",
        names[-2],
    }
    assert [b.name for b in core.list_backups(backups)] == [names[-1], result.info.name]
    assert not any(p.name.startswith(core.PARTIAL_PREFIX) for p in backups.iterdir())


def test_verify_and_restore_refuse_a_damaged_backup(data: Path, tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    info = core.backup(data, backups, retention=3).info
    copy = info.path / "tasks.db"
    raw = bytearray(copy.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    copy.write_bytes(bytes(raw))
    done = run("verify", "--backup-dir", str(backups), info.name)
    assert done.returncode == 1
    assert "tasks.db: sha256 differs" in done.stderr
    target = tmp_path / "restore"
    done = run("restore", "--backup-dir", str(backups), "--data-dir", str(target), "--gateway-stopped")
    assert done.returncode == 1
    assert "refusing to restore" in done.stderr
    assert not target.exists() or not any(target.iterdir())
    (info.path / core.MANIFEST).unlink()
    assert core.verify(info.path)[0].endswith("incomplete backup, do not restore it")


def test_restore_needs_the_flag_and_a_stopped_gateway(data: Path, tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    core.backup(data, backups, retention=3)
    make_db(data / "tasks.db", rows=5)  # changes after the backup
    args = ("restore", "--backup-dir", str(backups), "--data-dir", str(data))
    done = run(*args)
    assert done.returncode == 1
    assert "stop the gateway first, then pass --gateway-stopped" in done.stderr
    # Another process holding the database open: the probe must see it.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3,sys,time; c=sqlite3.connect(sys.argv[1]); c.execute('select count(*) from rows')"
            ".fetchone(); print('open', flush=True); time.sleep(60)",
            str(data / "tasks.db"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert read_line(holder.stdout, READY_TIMEOUT_S).strip() == "open"
        done = run(*args, "--gateway-stopped")
    finally:
        holder.kill()
        holder.wait(timeout=10)
    assert done.returncode == 1
    assert "tasks.db in" in done.stderr and "is the gateway still running?" in done.stderr
    assert count(data / "tasks.db") == 205
    done = run(*args, "--gateway-stopped")
    assert done.returncode == 0, done.stderr
    assert count(data / "tasks.db") == 200
    [aside] = [p for p in data.iterdir() if p.name.startswith(core.PRE_RESTORE_PREFIX)]
    assert count(aside / "tasks.db") == 205


def test_restore_onto_a_full_disk_says_what_was_restored(data: Path, tmp_path: Path) -> None:
    make_db(data / "tasks.db", rows=700)  # ~900 KB: over the file size limit below; audit.db is not
    backups = tmp_path / "backups"
    core.backup(data, backups, retention=3)
    target = tmp_path / "restored"
    target.mkdir()
    for name in ("audit.db", "tasks.db"):
        make_db(target / name, rows=3)
    limit = 500 * 1024

    def small_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    args = ("restore", "--backup-dir", str(backups), "--data-dir", str(target), "--gateway-stopped")
    done = run(*args, preexec=small_disk)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "failed after ['audit.db'] databases" in done.stderr and "no space left" in done.stderr
    [aside] = [p for p in target.iterdir() if p.name.startswith(core.PRE_RESTORE_PREFIX)]
    assert f"the databases it replaced are in {aside}" in done.stderr
    # audit.db is the backup's; tasks.db was not touched; no temporary copy is left behind.
    assert count(target / "audit.db") == 200 and count(aside / "audit.db") == 3
    assert count(target / "tasks.db") == 3
    assert not list(target.glob(".*.restore-tmp"))
    # With room, the same restore completes.
    assert run(*args).returncode == 0
    assert count(target / "tasks.db") == 700 + 200


@pytest.mark.parametrize(
    "entry_change",
    [{"name": "../escape.db"}, {"name": "sub/tasks.db"}, {"size": "12"}, {"sha256": None}],
    ids=["parent-path", "sub-path", "size-not-int", "sha256-missing"],
)
def test_a_manifest_with_a_bad_entry_is_refused_without_a_traceback(
    data: Path, tmp_path: Path, entry_change: dict[str, object]
) -> None:
    backups = tmp_path / "backups"
    info = core.backup(data, backups, retention=3).info
    manifest = json.loads((info.path / core.MANIFEST).read_text())
    entry = manifest["databases"][0]
    for key, value in entry_change.items():
        if value is None:
            del entry[key]  # a missing key
        else:
            entry[key] = value
    (info.path / core.MANIFEST).write_text(json.dumps(manifest))
    target = tmp_path / "restored"
    for verb, extra in (("verify", ()), ("restore", ("--data-dir", str(target), "--gateway-stopped"))):
        done = run(verb, "--backup-dir", str(backups), *extra, info.name)
        assert done.returncode == 1, verb
        assert "Traceback" not in done.stderr
        assert "incomplete backup" in done.stderr, done.stderr
    assert not (tmp_path / "escape.db").exists()
    assert not target.exists() or not list(target.iterdir())


# --- bad input: clear error, exit 1, nothing that looks complete ---------------------------


def test_missing_data_dir(tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    done = run(*backup_args(tmp_path / "nope", backups))
    assert done.returncode == 1
    assert f"data folder {tmp_path / 'nope'} does not exist" in done.stderr
    assert looks_complete(backups) == []


def test_non_sqlite_file(data: Path, tmp_path: Path) -> None:
    (data / "rbac.db").write_text("this is not a database\n")
    backups = tmp_path / "backups"
    done = run(*backup_args(data, backups))
    assert done.returncode == 1
    assert "rbac.db is not an SQLite database" in done.stderr
    assert looks_complete(backups) == []


def test_corrupt_database(data: Path, tmp_path: Path) -> None:
    db = data / "brain.db"
    make_db(db, rows=400)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    raw = bytearray(db.read_bytes())
    page = 4096
    # Garbage over pages in the middle of the table's b-tree (the header stays valid).
    raw[page * 3 : page * 9] = os.urandom(page * 6)
    db.write_bytes(bytes(raw))
    backups = tmp_path / "backups"
    done = run(*backup_args(data, backups))
    assert done.returncode == 1
    assert "brain.db:" in done.stderr
    assert "malformed" in done.stderr or "integrity_check of the copy failed" in done.stderr
    assert looks_complete(backups) == []
    assert not list(backups.glob(f"{core.PARTIAL_PREFIX}*"))


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A folder other users can traverse (pytest's tmp_path is private to root)."""
    d = Path(tempfile.mkdtemp(prefix="friday-backup-"))
    d.chmod(0o755)
    try:
        yield d
    finally:
        shutil.rmtree(d)


def test_unwritable_backup_dir(open_tmp: Path) -> None:
    data, backups = open_tmp / "data", open_tmp / "backups"
    data.mkdir(mode=0o777)
    data.chmod(0o777)
    make_db(data / "tasks.db")
    (data / "tasks.db").chmod(0o666)
    backups.mkdir(mode=0o555)
    backups.chmod(0o555)

    def as_nobody() -> None:
        # chmod does not stop root: drop to an unprivileged user, as the real service runs.
        if os.geteuid() == 0:
            os.setgid(NOBODY)
            os.setuid(NOBODY)

    # As the container and the timer run it: the shipped package on the system Python.
    shutil.copytree(SOURCE_DIR, open_tmp / "tool" / PACKAGE, ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run(
        ["/usr/bin/python3", "-S", "-m", PACKAGE, *backup_args(data, backups)],
        cwd=open_tmp / "tool",
        env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=as_nobody,
        check=False,
    )
    assert done.returncode == 1
    assert f"cannot write to backup folder {backups}" in done.stderr
    assert list(backups.iterdir()) == []


def test_full_disk(data: Path, tmp_path: Path) -> None:
    make_db(data / "soul.db", rows=700)  # ~750 KB: larger than the file size limit, the others are not
    backups = tmp_path / "backups"
    limit = 500 * 1024

    def small_disk() -> None:
        # Writes past the limit fail with EFBIG (like ENOSPC) instead of killing the process.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = run(*backup_args(data, backups), preexec=small_disk)
    assert done.returncode == 1
    assert "soul.db:" in done.stderr
    assert "disk" in done.stderr or "no space" in done.stderr
    assert looks_complete(backups) == []
    assert not list(backups.glob(f"{core.PARTIAL_PREFIX}*"))
    # Without the limit the same data backs up fine: the limit was the cause.
    assert run(*backup_args(data, backups)).returncode == 0
    assert len(looks_complete(backups)) == 2  # the folder and its manifest
