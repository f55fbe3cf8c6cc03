"""A stand-in for the gateway's database writes: keeps committing rows to WAL databases.

Run as a process (the gateway is another process than the backup, which matters for SQLite
locking): `python -m testbed.sqlite_writer DATA_DIR --seconds S --max-rows N`.
It creates the gateway's seven databases in WAL mode, prints `ready` on stdout, then commits
one row per transaction round-robin until the time or row budget is spent or SIGTERM.
Row ids of each table are 1, 2, 3... with no gaps, so "every row up to max(id)" is checkable.
"""

from __future__ import annotations

import argparse
import signal
import sqlite3
import sys
import time
from pathlib import Path
from types import FrameType

from infra.backup.core import KNOWN_DATABASES

PAYLOAD = b"x" * 512


def create(data_dir: Path) -> list[sqlite3.Connection]:
    data_dir.mkdir(parents=True, exist_ok=True)
    conns = []
    for name in KNOWN_DATABASES:
        conn = sqlite3.connect(data_dir / name, timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)")
        conns.append(conn)
    return conns


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("data_dir", type=Path)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--max-rows", type=int, default=100_000)
    args = p.parse_args(argv)
    stop = False

    def on_term(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    conns = create(args.data_dir)
    print("ready", flush=True)
    deadline = time.monotonic() + args.seconds
    rows = 0
    while not stop and rows < args.max_rows and time.monotonic() < deadline:
        conn = conns[rows % len(conns)]
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO rows (payload) VALUES (?)", (PAYLOAD,))
        conn.execute("COMMIT")
        rows += 1
    for conn in conns:
        conn.close()
    print(f"wrote {rows}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
