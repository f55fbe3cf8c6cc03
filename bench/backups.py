"""Backup and restore times of the gateway databases (issue 23 item 3): RPO and RTO from figures.

For each size, a data folder like the gateway's (seven WAL databases, audit.db and brain.db holding
most of the bytes, rows of JSON-ish text with random tokens so neither SQLite nor restic's
compression makes them unrealistically small) is:

- copied as plain files (`cp`: what the disk and page cache allow, and what is *not* a safe backup),
- copied with `sqlite3 SRC ".backup DST"` per database (SQLite's own online backup),
- backed up by the tool (`core.backup`: online copy, integrity_check, sha256, manifest),
- restored by the tool into an empty folder (`core.restore`: verify, copy, checksum, WAL mode),
- sent off-host with restic to moto's S3 server on 127.0.0.1 (`offsite.send`, first snapshot: every
  byte goes; a second snapshot after a small write shows the incremental cost), and
- restored from the object store (`offsite.restore_from_offsite`: fetch, verify, restore).

Every step reads what the previous wrote; the page cache is warm (no root-only cache drop), so the
figures are the best case of this machine's disk; docs/backups.md derives the objectives from them.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from infra.backup import core, offsite
from testbed.s3_store import s3_store

MB = 1 << 20
# How the gateway's bytes spread over its databases (audit and brain grow; the rest stay small).
SHARES = {
    "audit.db": 0.6,
    "brain.db": 0.3,
    "auth.db": 0.02,
    "integrations.db": 0.02,
    "rbac.db": 0.02,
    "soul.db": 0.02,
    "tasks.db": 0.02,
}
ROW_BYTES = 2048
SIZES_MB = (100, 1024)
QUICK_SIZES_MB = (8,)


@dataclass(frozen=True)
class Timing:
    size_mb: int
    method: str
    seconds: float
    bytes: int

    @property
    def mb_per_s(self) -> float:
        return self.bytes / MB / self.seconds if self.seconds > 0 else float("inf")


def make_data(folder: Path, size_mb: int) -> int:
    """Seven WAL databases totalling about size_mb; returns the bytes of the .db files."""
    folder.mkdir(parents=True)
    for name, share in SHARES.items():
        rows = max(1, int(size_mb * MB * share) // ROW_BYTES)
        conn = sqlite3.connect(folder / name)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("CREATE TABLE entries (id INTEGER PRIMARY KEY, ts INTEGER, body TEXT)")
            batch = 2000
            for start in range(0, rows, batch):
                conn.executemany(
                    "INSERT INTO entries (ts, body) VALUES (?, ?)",
                    [(start + i, _body()) for i in range(min(batch, rows - start))],
                )
                conn.commit()
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
    return sum(p.stat().st_size for p in folder.glob("*.db"))


def _body() -> str:
    # About half random (incompressible) and half repetitive text, as audit entries are; short enough
    # that two rows share a 4 KiB page, so a row costs about ROW_BYTES on disk.
    token = secrets.token_hex(ROW_BYTES // 4 - 62)
    return '{"event":"auth.login","actor":"' + token + '","detail":"' + "x" * (ROW_BYTES // 2 - 100) + '"}'


def _timed(fn: Callable[[], object]) -> float:
    started = time.monotonic()
    fn()
    return time.monotonic() - started


def _copy_files(src: Path, dst: Path) -> None:
    dst.mkdir()
    for p in sorted(src.iterdir()):
        if p.is_file():
            shutil.copyfile(p, dst / p.name)
    _sync(dst)


def _sqlite_backup(src: Path, dst: Path) -> None:
    dst.mkdir()
    for db in sorted(src.glob("*.db")):
        subprocess.run(["sqlite3", str(db), f".backup '{dst / db.name}'"], check=True, timeout=3600)
    _sync(dst)


def _sync(folder: Path) -> None:
    for p in folder.iterdir():
        fd = os.open(p, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextmanager
def _env(values: dict[str, str]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def measure_size(work: Path, size_mb: int, store_repo: str, store_env: dict[str, str]) -> list[Timing]:
    data = work / "data"
    size = make_data(data, size_mb)
    out: list[Timing] = []

    def add(method: str, seconds: float) -> None:
        out.append(Timing(size_mb, method, seconds, size))

    add("plain file copy (cp)", _timed(lambda: _copy_files(data, work / "cp")))
    shutil.rmtree(work / "cp")
    add("sqlite3 .backup", _timed(lambda: _sqlite_backup(data, work / "sqlite")))
    shutil.rmtree(work / "sqlite")
    backups = work / "backups"
    result: list[core.BackupResult] = []
    add("tool backup (local)", _timed(lambda: result.append(core.backup(data, backups, retention=2))))
    info = result[0].info
    add(
        "tool restore (local)",
        _timed(lambda: core.restore(info.path, work / "restored", gateway_stopped=True)),
    )
    shutil.rmtree(work / "restored")
    cfg = offsite.Offsite(store_repo, offsite.Keep(last=2))
    with _env(store_env):
        add("off-host send, first (restic to S3)", _timed(lambda: offsite.send(info, cfg)))
        # A small write, a new local backup: restic sends only what changed.
        conn = sqlite3.connect(data / "audit.db")
        conn.execute("INSERT INTO entries (ts, body) VALUES (0, ?)", (_body(),))
        conn.commit()
        conn.close()
        second = core.backup(data, backups, retention=2).info
        add("off-host send, next (after a small write)", _timed(lambda: offsite.send(second, cfg)))
        add(
            "restore from off-host",
            _timed(lambda: offsite.restore_from_offsite(cfg, backups, work / "from-s3", gateway_stopped=True)),
        )
    shutil.rmtree(work)
    return out


def measure(tmp: Path, sizes_mb: tuple[int, ...]) -> list[Timing]:
    """Every size against one moto S3 server on 127.0.0.1 (each size its own repository)."""
    timings: list[Timing] = []
    with s3_store(tmp) as store:
        for size in sizes_mb:
            env = store.env(secrets.token_urlsafe(24))
            timings += measure_size(tmp / f"backup-{size}mb", size, store.repository(f"bench-{size}mb"), env)
    return timings


def table(timings: list[Timing]) -> str:
    lines = [
        "| Data | Method | Time | Throughput |",
        "| ---: | --- | ---: | ---: |",
    ]
    for t in timings:
        lines.append(f"| {t.size_mb} MB | {t.method} | {t.seconds:.2f} s | {t.mb_per_s:.0f} MB/s |")
    return "\n".join(lines) + "\n"


def as_json(timings: list[Timing]) -> list[dict[str, object]]:
    return [
        {"size_mb": t.size_mb, "method": t.method, "seconds": round(t.seconds, 3), "mb_per_s": round(t.mb_per_s, 1)}
        for t in timings
    ]
