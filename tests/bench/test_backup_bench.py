"""The backup part of `make bench` (bench/backups.py) at a small size: every method runs against the
same data, the off-host steps against moto's S3 server, and the figures are sound."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bench import backups


def test_backup_bench_measures_every_method_on_real_data(tmp_path: Path) -> None:
    timings = backups.measure(tmp_path, (4,))
    methods = [t.method for t in timings]
    assert methods == [
        "plain file copy (cp)",
        "sqlite3 .backup",
        "tool backup (local)",
        "tool restore (local)",
        "off-host send, first (restic to S3)",
        "off-host send, next (after a small write)",
        "restore from off-host",
    ]
    for t in timings:
        assert t.size_mb == 4 and t.seconds > 0 and t.mb_per_s > 0
        # About the size asked for: the data is really there (not an empty folder timed).
        assert 3.5 * backups.MB <= t.bytes <= 6 * backups.MB, t
    table = backups.table(timings)
    assert table.count("| 4 MB |") == len(methods)
    # The work folders are gone; only moto's log stays in the caller's folder.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["moto.log"]


def test_bench_data_looks_like_the_gateways(tmp_path: Path) -> None:
    size = backups.make_data(tmp_path / "data", 2)
    assert {p.name for p in (tmp_path / "data").glob("*.db")} == set(backups.SHARES)
    assert 1.5 * backups.MB <= size <= 4 * backups.MB
    conn = sqlite3.connect(tmp_path / "data" / "audit.db")
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT count(*) FROM entries").fetchone()[0] > 100
    finally:
        conn.close()
