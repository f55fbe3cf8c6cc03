"""SQLite databases like the gateway's (WAL mode) for backup tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def make_db(path: Path, rows: int = 200, payload: int = 1024) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, payload BLOB)")
        conn.executemany("INSERT INTO rows (payload) VALUES (?)", [(b"p" * payload,)] * rows)
        conn.commit()
    finally:
        conn.close()
