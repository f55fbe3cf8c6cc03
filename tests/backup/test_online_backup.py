"""Backups taken while another process keeps committing: nothing committed before a backup is lost."""

from __future__ import annotations

import itertools
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from infra.backup import core
from testbed.paths import REPO_ROOT
from testbed.processes import read_line

BACKUPS = 5
# How long the writer may take to create its databases and say so.
READY_TIMEOUT_S = 30.0
WRITER_SECONDS = 30.0
NO_ROW_CAP = ("--max-rows", str(10**9))


def max_ids(data_dir: Path) -> dict[str, int]:
    """Highest committed row id per database, read by a connection of our own."""
    out = {}
    for name in core.KNOWN_DATABASES:
        conn = sqlite3.connect(f"file:{data_dir / name}?mode=ro", uri=True, timeout=30)
        try:
            out[name] = int(conn.execute("SELECT coalesce(max(id), 0) FROM rows").fetchone()[0])
        finally:
            conn.close()
    return out


def ids_in(db: Path) -> list[int]:
    conn = sqlite3.connect(db)
    try:
        return [int(r[0]) for r in conn.execute("SELECT id FROM rows ORDER BY id")]
    finally:
        conn.close()


def test_backups_during_writes_keep_every_committed_row(tmp_path: Path) -> None:
    data, backups = tmp_path / "data", tmp_path / "backups"
    writer = subprocess.Popen(
        # Bounded by time only: a row cap (the writer's default 100000) could be reached before the
        # backups end on a fast machine, and the test would then prove nothing.
        [sys.executable, "-m", "testbed.sqlite_writer", str(data), "--seconds", str(WRITER_SECONDS), *NO_ROW_CAP],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    taken: list[tuple[core.BackupResult, dict[str, int]]] = []
    try:
        assert read_line(writer.stdout, READY_TIMEOUT_S).strip() == "ready"
        time.sleep(0.3)
        for _ in range(BACKUPS):
            before = max_ids(data)
            result = core.backup(data, backups, retention=BACKUPS)
            taken.append((result, before))
            time.sleep(0.2)
        still_writing = writer.poll() is None
    finally:
        writer.terminate()
        out, _ = writer.communicate(timeout=30)
    assert still_writing, "the writer stopped before the backups ended: the test proved nothing"
    assert writer.returncode == 0
    total = int(out.split()[-1])
    # What matters is that commits landed while backups ran (not a machine-speed figure):
    # the committed rows grew between every two consecutive backups.
    counts = [sum(before.values()) for _, before in taken]
    assert all(b > a for a, b in itertools.pairwise(counts)), f"no writes between backups: {counts}"
    assert total >= counts[-1]

    assert [b.name for b in core.list_backups(backups)] == [r.info.name for r, _ in taken]
    for result, before in taken:
        assert core.verify(result.info.path) == []
        restore_dir = tmp_path / f"restore-{result.info.name}"
        restored = core.restore(result.info.path, restore_dir, gateway_stopped=True)
        assert sorted(restored) == sorted(core.KNOWN_DATABASES)
        for name, committed in before.items():
            db = restore_dir / name
            ids = ids_in(db)
            # Every row committed before the backup began, with no gap.
            assert ids[:committed] == list(range(1, committed + 1)), f"{name} in {result.info.name} lost rows"
            assert len(ids) >= committed
            assert not db.with_name(name + "-wal").exists()
            conn = sqlite3.connect(db)
            try:
                assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                # Restored in the source's journal mode: the gateway runs WAL.
                assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            finally:
                conn.close()
    # The writer kept going: later backups hold more than earlier ones.
    firsts, lasts = taken[0][1], taken[-1][1]
    assert sum(lasts.values()) > sum(firsts.values())
