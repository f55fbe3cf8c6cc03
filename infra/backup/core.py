"""Backup, verify, list, prune and restore of the SQLite databases in one data folder.

A backup is a folder named for its start time (UTC) holding one copy per database and a
`manifest.json` with each copy's size and sha256. It is built under a `.partial-*` name and
renamed only after the manifest is written and synced, so a folder with the final name and a
manifest is complete by construction; anything else is a leftover that the next run removes.

Copies are taken with SQLite's online backup API in one step: one read transaction, so each
copy is a consistent snapshot that holds every transaction committed before the copy began,
while the gateway keeps writing (WAL readers do not block the writer). Copies are stored in
rollback-journal mode (one self-contained file, no -wal); restore puts each database back in
the journal mode the manifest recorded for its source.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

# What gateway 0.1.0 keeps in core.dataDir (docs/gateway.md). Every *.db there is backed
# up; these names are only used to warn when one is missing.
KNOWN_DATABASES = (
    "audit.db",
    "auth.db",
    "brain.db",
    "integrations.db",
    "rbac.db",
    "soul.db",
    "tasks.db",
)
MANIFEST = "manifest.json"
STATE = "state.json"
LOCK = ".lock"
PARTIAL_PREFIX = ".partial-"
PRE_RESTORE_PREFIX = ".pre-restore-"
MANIFEST_FORMAT = 1
SQLITE_HEADER = b"SQLite format 3\x00"
NAME_RE = re.compile(r"^\d{8}T\d{6}\.\d{6}Z$")
# How long a copy waits for a lock the gateway holds briefly (WAL recovery, checkpoints).
BUSY_TIMEOUT_S = 30.0

Log = Callable[[str], None]


class BackupError(Exception):
    """A failure with a message meant for the operator; the CLI exits non-zero with it."""


@dataclass(frozen=True)
class DatabaseCopy:
    name: str
    size: int
    sha256: str
    journal_mode: str
    integrity: str

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "size": self.size,
            "sha256": self.sha256,
            "source_journal_mode": self.journal_mode,
            "integrity_check": self.integrity,
        }


@dataclass(frozen=True)
class BackupInfo:
    name: str
    path: Path
    manifest: dict[str, Any] | None

    @property
    def complete(self) -> bool:
        return self.manifest is not None

    @property
    def finished(self) -> float:
        return float(self.manifest["finished_ts"]) if self.manifest else 0.0

    @property
    def duration(self) -> float:
        return self.finished - float(self.manifest["started_ts"]) if self.manifest else 0.0

    @property
    def size(self) -> int:
        return int(self.manifest["total_bytes"]) if self.manifest else 0


@dataclass(frozen=True)
class BackupResult:
    info: BackupInfo
    duration: float
    removed: tuple[str, ...]
    missing_known: tuple[str, ...]


def stamp(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y%m%dT%H%M%S.%fZ")


def _quiet(_: str) -> None:
    return None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, text: str) -> None:
    """Write via a temp file in the same folder and rename: readers see old or new, never half."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with tmp.open("w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _uri(path: Path, params: str) -> str:
    return f"file:{quote(str(path.resolve()))}?{params}"


def _why(err: BaseException) -> str:
    if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return f"no space left for the backup ({err.strerror})"
    text = str(err)
    if "disk is full" in text or "disk I/O error" in text:
        return f"{text} (is the backup disk full?)"
    return text


# --- discovery ------------------------------------------------------------------------------


def find_databases(data_dir: Path) -> list[Path]:
    """Every *.db file of data_dir, each checked to be SQLite; a clear error otherwise."""
    if not data_dir.exists():
        raise BackupError(f"data folder {data_dir} does not exist (is the data volume mounted?)")
    if not data_dir.is_dir():
        raise BackupError(f"data folder {data_dir} is not a folder")
    try:
        dbs = sorted(p for p in data_dir.iterdir() if p.suffix == ".db" and p.is_file())
    except PermissionError as err:
        raise BackupError(f"cannot read data folder {data_dir}: {err.strerror}") from err
    if not dbs:
        raise BackupError(f"no *.db files in {data_dir}: nothing to back up (wrong folder?)")
    for db in dbs:
        try:
            with db.open("rb") as f:
                header = f.read(len(SQLITE_HEADER))
        except OSError as err:
            raise BackupError(f"cannot read {db}: {err.strerror}") from err
        # SQLite treats an empty file as an empty database.
        if header and header != SQLITE_HEADER:
            raise BackupError(f"{db} is not an SQLite database (its header is not 'SQLite format 3')")
    return dbs


# --- backup ---------------------------------------------------------------------------------


@contextlib.contextmanager
def backup_lock(backup_dir: Path) -> Iterator[None]:
    """One backup at a time per backup folder (the timer, the loop and an operator may overlap)."""
    try:
        fd = os.open(backup_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as err:
        raise BackupError(f"cannot write to backup folder {backup_dir}: {err.strerror}") from err
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(f"another backup into {backup_dir} is running") from None
        yield
    finally:
        os.close(fd)


def copy_database(src: Path, dst: Path) -> DatabaseCopy:
    """Online copy of one database into dst (which must not exist), integrity-checked."""
    source = sqlite3.connect(_uri(src, "mode=ro"), uri=True, timeout=BUSY_TIMEOUT_S)
    try:
        journal_mode = str(source.execute("PRAGMA journal_mode").fetchone()[0])
        target = sqlite3.connect(dst)
        try:
            # pages=-1: the whole database under one read transaction. Stepping in chunks
            # would restart on every write the gateway makes and might never finish.
            source.backup(target, pages=-1)
            target.execute("PRAGMA journal_mode=DELETE")
            rows = target.execute("PRAGMA integrity_check").fetchall()
        finally:
            target.close()
    except sqlite3.DatabaseError as err:
        raise BackupError(f"{src.name}: {_why(err)}") from err
    finally:
        source.close()
    result = "; ".join(str(r[0]) for r in rows)
    if result != "ok":
        raise BackupError(f"{src.name}: integrity_check of the copy failed: {result[:500]}")
    for suffix in ("-wal", "-shm", "-journal"):
        if dst.with_name(dst.name + suffix).exists():
            raise BackupError(f"{src.name}: the copy left a {suffix} file behind")
    _fsync_file(dst)
    return DatabaseCopy(src.name, dst.stat().st_size, sha256_of(dst), journal_mode, result)


def backup(data_dir: Path, backup_dir: Path, *, retention: int, log: Log = _quiet) -> BackupResult:
    """Take one complete backup of data_dir into backup_dir, then keep the newest `retention`."""
    if retention < 1:
        raise BackupError(f"retention must be at least 1, got {retention}")
    databases = find_databases(data_dir)
    try:
        backup_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise BackupError(f"cannot create backup folder {backup_dir}: {err.strerror}") from err
    with backup_lock(backup_dir):
        removed = list(remove_leftovers(backup_dir, log))
        started = time.time()
        name = stamp(started)
        partial = backup_dir / f"{PARTIAL_PREFIX}{name}"
        final = backup_dir / name
        try:
            partial.mkdir()
            copies = []
            for db in databases:
                copies.append(copy_database(db, partial / db.name))
                log(f"copied {db.name} ({copies[-1].size} bytes, integrity ok)")
            finished = time.time()
            manifest = {
                "format": MANIFEST_FORMAT,
                "name": name,
                "source": str(data_dir),
                "started_ts": started,
                "finished_ts": finished,
                "started": datetime.fromtimestamp(started, UTC).isoformat(),
                "finished": datetime.fromtimestamp(finished, UTC).isoformat(),
                "total_bytes": sum(c.size for c in copies),
                "databases": [c.as_json() for c in copies],
            }
            # Last, and only then the rename: a final name implies a complete backup.
            write_atomic(partial / MANIFEST, json.dumps(manifest, indent=2) + "\n")
            os.rename(partial, final)
            _fsync_dir(backup_dir)
        except BackupError:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        except (OSError, sqlite3.Error) as err:
            shutil.rmtree(partial, ignore_errors=True)
            raise BackupError(f"backup into {backup_dir} failed: {_why(err)}") from err
        info = BackupInfo(name, final, manifest)
        removed += prune(backup_dir, retention, log)
    present = {db.name for db in databases}
    return BackupResult(
        info=info,
        duration=finished - started,
        removed=tuple(removed),
        missing_known=tuple(n for n in KNOWN_DATABASES if n not in present),
    )


# --- listing, retention ---------------------------------------------------------------------


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The folder's manifest, or None when it has none (or an unreadable one): incomplete."""
    try:
        doc = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("format") != MANIFEST_FORMAT or not isinstance(doc.get("databases"), list):
        return None
    if not all(_entry_ok(e) for e in doc["databases"]):
        return None
    return doc


def _entry_ok(entry: object) -> bool:
    """A database entry verify and restore can use: a plain *.db file name (restore writes
    data_dir / name, so never a path), its size and its sha256."""
    if not isinstance(entry, dict):
        return False
    name, size, digest = entry.get("name"), entry.get("size"), entry.get("sha256")
    return (
        isinstance(name, str)
        and name.endswith(".db")
        and Path(name).name == name
        and not name.startswith(".")
        and isinstance(size, int)
        and isinstance(digest, str)
        and len(digest) == 64
    )


def list_backups(backup_dir: Path) -> list[BackupInfo]:
    """Backup folders (final names only), oldest first; `complete` tells which count."""
    if not backup_dir.is_dir():
        return []
    return [
        BackupInfo(p.name, p, read_manifest(p))
        for p in sorted(backup_dir.iterdir())
        if p.is_dir() and NAME_RE.match(p.name)
    ]


def latest_complete(backup_dir: Path) -> BackupInfo | None:
    complete = [b for b in list_backups(backup_dir) if b.complete]
    return complete[-1] if complete else None


def remove_leftovers(backup_dir: Path, log: Log = _quiet) -> Iterator[str]:
    """Remove interrupted backups (.partial-*, or a final name without manifest). Needs the lock."""
    for p in sorted(backup_dir.iterdir()):
        if p.is_dir() and (p.name.startswith(PARTIAL_PREFIX) or (NAME_RE.match(p.name) and not read_manifest(p))):
            shutil.rmtree(p)
            log(f"removed incomplete backup {p.name}")
            yield p.name


def prune(backup_dir: Path, keep: int, log: Log = _quiet) -> list[str]:
    """Delete complete backups beyond the newest `keep`. Needs the lock."""
    complete = [b for b in list_backups(backup_dir) if b.complete]
    doomed = complete[:-keep] if len(complete) > keep else []
    for b in doomed:
        shutil.rmtree(b.path)
        log(f"removed old backup {b.name} (keeping {keep})")
    return [b.name for b in doomed]


# --- verify ---------------------------------------------------------------------------------


def integrity_of(path: Path) -> str:
    """PRAGMA integrity_check of a stored copy, opened without writing anything beside it."""
    try:
        conn = sqlite3.connect(_uri(path, "mode=ro&immutable=1"), uri=True)
        try:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as err:
        return str(err)
    return "; ".join(str(r[0]) for r in rows)


def verify(folder: Path) -> list[str]:
    """Problems of one backup folder (empty list: complete, checksums match, integrity ok)."""
    manifest = read_manifest(folder)
    if manifest is None:
        return [f"{folder}: no valid {MANIFEST}: incomplete backup, do not restore it"]
    problems = []
    listed = set()
    for entry in manifest["databases"]:
        path = folder / str(entry["name"])
        listed.add(path.name)
        if not path.is_file():
            problems.append(f"{path.name}: listed in the manifest but missing")
            continue
        if path.stat().st_size != entry["size"]:
            problems.append(f"{path.name}: size {path.stat().st_size} differs from the manifest's {entry['size']}")
        if sha256_of(path) != entry["sha256"]:
            problems.append(f"{path.name}: sha256 differs from the manifest (the copy changed or is damaged)")
            continue
        check = integrity_of(path)
        if check != "ok":
            problems.append(f"{path.name}: integrity_check: {check[:300]}")
    for extra in sorted(p.name for p in folder.glob("*.db") if p.name not in listed):
        problems.append(f"{extra}: not in the manifest")
    return problems


# --- restore --------------------------------------------------------------------------------


def in_use(db: Path) -> bool:
    """True when another connection (the gateway) has this database open.

    An exclusive lock in exclusive locking mode cannot be had while any other connection
    holds the database (in WAL mode: its shared-memory lock), so this is a real probe.
    """
    conn = sqlite3.connect(_uri(db, "mode=rw"), uri=True, timeout=0)
    try:
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.rollback()
    except sqlite3.OperationalError as err:
        if "locked" in str(err) or "busy" in str(err):
            return True
        raise
    finally:
        conn.close()
    return False


def restore(folder: Path, data_dir: Path, *, gateway_stopped: bool, log: Log = _quiet) -> list[str]:
    """Put the databases of a verified backup into data_dir; the old files move aside."""
    if not gateway_stopped:
        raise BackupError(
            "restore replaces the gateway's databases: stop the gateway first, then pass --gateway-stopped"
        )
    problems = verify(folder)
    if problems:
        raise BackupError(f"refusing to restore {folder}: " + "; ".join(problems))
    manifest = read_manifest(folder)
    assert manifest is not None  # verify() passed
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise BackupError(f"cannot create data folder {data_dir}: {err.strerror}") from err
    entries = manifest["databases"]
    busy = [str(e["name"]) for e in entries if (data_dir / e["name"]).exists() and in_use(data_dir / e["name"])]
    if busy:
        raise BackupError(
            f"{', '.join(busy)} in {data_dir} are open by another process: is the gateway still running? "
            "Stop it before restoring"
        )
    aside = data_dir / f"{PRE_RESTORE_PREFIX}{stamp(time.time())}"
    restored: list[str] = []
    try:
        for entry in entries:
            _restore_one(folder, entry, data_dir, aside)
            restored.append(str(entry["name"]))
            log(f"restored {entry['name']}")
        _fsync_dir(data_dir)
    except (OSError, sqlite3.Error, BackupError) as err:
        why = str(err) if isinstance(err, BackupError) else _why(err)
        # Say what state the folder is in: some databases may already be the backup's.
        kept = f"; the databases it replaced are in {aside}" if aside.exists() else ""
        raise BackupError(f"restore into {data_dir} failed after {restored or 'no'} databases: {why}{kept}") from err
    finally:
        for tmp in data_dir.glob(".*.restore-tmp"):
            tmp.unlink(missing_ok=True)
    if aside.exists():
        log(f"previous databases kept in {aside}")
    return restored


def _restore_one(folder: Path, entry: dict[str, Any], data_dir: Path, aside: Path) -> None:
    name = str(entry["name"])
    target = data_dir / name
    tmp = data_dir / f".{name}.restore-tmp"
    shutil.copyfile(folder / name, tmp)
    if sha256_of(tmp) != entry["sha256"]:
        raise BackupError(f"{name}: the copy in {data_dir} does not match the manifest checksum")
    conn = sqlite3.connect(tmp)
    try:
        conn.execute(f"PRAGMA journal_mode={_journal_mode(entry)}")
        check = "; ".join(str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall())
    finally:
        conn.close()
    if check != "ok":
        raise BackupError(f"{name}: integrity_check after copying failed: {check[:300]}")
    if os.geteuid() == 0:
        # Restoring as root: give the file to whoever owns the data folder (the gateway).
        owner = data_dir.stat()
        os.chown(tmp, owner.st_uid, owner.st_gid)
    _fsync_file(tmp)
    # The old database moves aside with its -wal and -shm: they belong to it, and a stale
    # -wal beside the restored file would be replayed into it.
    for old in (target, *(target.with_name(name + s) for s in ("-wal", "-shm", "-journal"))):
        if old.exists():
            aside.mkdir(exist_ok=True)
            os.replace(old, aside / old.name)
    os.replace(tmp, target)


def _journal_mode(entry: dict[str, Any]) -> str:
    mode = str(entry.get("source_journal_mode", "wal")).lower()
    if mode not in {"wal", "delete", "truncate", "persist"}:
        # memory/off never belong on disk; the gateway runs WAL.
        return "wal"
    return mode
