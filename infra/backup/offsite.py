"""Off-host copies with restic: send a verified local backup to a restic repository (S3), apply
the remote retention, and restore from it.

No upload code of our own: restic does the transfer, encryption (always on: a restic repository
has a password), deduplication, retention (`forget --prune`) and integrity (every blob is
authenticated when read back). This module only runs it and turns its failures into operator
messages.

Secrets never appear on a command line or in a log: restic reads the repository password from
RESTIC_PASSWORD or RESTIC_PASSWORD_FILE and the S3 keys from AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY in its environment (the process's own, set by the target from secrets).
The repository location itself is not secret (no credentials in it; settings refuse them).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .core import MANIFEST, BackupError, BackupInfo, Log, _quiet, read_manifest, restore, stamp

TAG = "friday-backup"
RESTORE_PREFIX = ".offsite-restore-"
PASSWORD_VARS = ("RESTIC_PASSWORD", "RESTIC_PASSWORD_FILE")
KEY_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
# What restic prints when the repository is not there yet (then the first run creates it).
_NOT_THERE = ("The specified key does not exist", "The specified bucket does not exist", "NoSuchBucket")


class OffsiteError(BackupError):
    """The off-host copy (or a restore from it) failed; the local backups are untouched."""


@dataclass(frozen=True)
class Keep:
    """restic's keep options for `forget --prune` (0: that rule keeps nothing)."""

    last: int = 0
    daily: int = 0
    weekly: int = 0
    monthly: int = 0

    def args(self) -> tuple[str, ...]:
        pairs = (
            ("--keep-last", self.last),
            ("--keep-daily", self.daily),
            ("--keep-weekly", self.weekly),
            ("--keep-monthly", self.monthly),
        )
        out: list[str] = []
        for flag, n in pairs:
            if n > 0:
                out += [flag, str(n)]
        return tuple(out)


@dataclass(frozen=True)
class Offsite:
    repository: str
    keep: Keep
    restic: str = "restic"
    # One restic call still going after this long is stopped (the task's own deadline is 1 h).
    timeout_s: float = 3000.0


@dataclass(frozen=True)
class Sent:
    snapshot: str
    duration: float
    removed: int


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # restic keeps a cache under $XDG_CACHE_HOME or $HOME/.cache; a read-only root has neither
    # writable, so it goes to the temp folder (a scratch mount on every target).
    if "RESTIC_CACHE_DIR" not in env:
        env["RESTIC_CACHE_DIR"] = str(Path(env.get("TMPDIR", "/tmp")) / "restic-cache")
    return env


def check_credentials() -> None:
    """The secrets restic needs are present (their values are never read here)."""
    if not any(os.environ.get(v) for v in PASSWORD_VARS):
        raise OffsiteError("off-host copy: no restic repository password (RESTIC_PASSWORD or RESTIC_PASSWORD_FILE)")
    missing = [v for v in KEY_VARS if not os.environ.get(v)]
    if missing:
        raise OffsiteError(f"off-host copy: {', '.join(missing)} not set (the object store's credentials)")


def explain(stderr: str) -> str:
    """restic's error, with what it most likely means."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    fatal = [line for line in lines if line.startswith("Fatal:") or "error" in line.lower()]
    picked = fatal or lines
    # The first error says what went wrong, the last how restic ended.
    text = "; ".join(dict.fromkeys(picked[:2] + picked[-1:]))[:600] or "no output"
    low = stderr.lower()
    hints = (
        (("signature we calculated", "access denied", "invalidaccesskeyid", "access key id you provided"),
         "the object store refused the credentials (check the access key id and secret)"),
        (("connection refused", "no such host", "i/o timeout", "network is unreachable", "context deadline"),
         "the object store is unreachable (check the endpoint and the network)"),
        (("wrong password",), "the restic repository password is wrong"),
        (("ciphertext verification failed", "hash mismatch", "does not match", "unexpected eof", "is damaged"),
         "the repository's data is damaged (run `restic check --read-data`; older snapshots may still restore)"),
    )  # fmt: skip
    for needles, hint in hints:
        if any(n in low for n in needles):
            return f"{hint}: {text}"
    return text


def _restic(cfg: Offsite, *args: str, cwd: Path | None = None) -> str:
    what = f"restic {args[0]}"
    try:
        done = subprocess.run(
            [cfg.restic, "--repo", cfg.repository, *args],
            cwd=cwd,
            env=_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=cfg.timeout_s,
            check=False,
        )
    except FileNotFoundError:
        raise OffsiteError(f"off-host copy: {cfg.restic!r} not found (install restic)") from None
    except subprocess.TimeoutExpired:
        raise OffsiteError(f"off-host copy: {what} did not finish within {cfg.timeout_s:.0f}s") from None
    if done.returncode != 0:
        raise OffsiteError(f"off-host copy to {cfg.repository}: {what} failed: {explain(done.stderr)}")
    return done.stdout


def ensure_repository(cfg: Offsite, log: Log = _quiet) -> None:
    """Open the repository; create it when the store has none there yet (never on any other error)."""
    try:
        _restic(cfg, "cat", "config")
    except OffsiteError as err:
        if not any(n in str(err) for n in _NOT_THERE):
            raise
        _restic(cfg, "init")
        log(f"created restic repository {cfg.repository}")


def send(info: BackupInfo, cfg: Offsite, log: Log = _quiet) -> Sent:
    """Copy one complete local backup folder into the repository, then apply the remote retention."""
    check_credentials()
    started = time.monotonic()
    ensure_repository(cfg, log)
    # Relative path: the snapshot holds the backup folder by its name.
    out = _restic(
        cfg, "backup", "--json", "--host", TAG, "--tag", TAG, "--tag", f"name={info.name}", info.name,
        cwd=info.path.parent,
    )  # fmt: skip
    snapshot = ""
    for line in out.splitlines():
        with contextlib.suppress(ValueError):
            doc = json.loads(line)
            if isinstance(doc, dict) and doc.get("message_type") == "summary":
                snapshot = str(doc.get("snapshot_id", ""))
    if not snapshot:
        raise OffsiteError(f"off-host copy to {cfg.repository}: restic backup reported no snapshot")
    removed = 0
    keep = cfg.keep.args()
    if keep:
        forgot = _restic(cfg, "forget", "--json", "--prune", "--host", TAG, "--tag", TAG, *keep)
        removed = _count_removed(forgot)
    return Sent(snapshot, time.monotonic() - started, removed)


def _count_removed(out: str) -> int:
    for line in out.splitlines():
        with contextlib.suppress(ValueError):
            doc = json.loads(line)
            if isinstance(doc, list):
                return sum(len(group.get("remove") or []) for group in doc if isinstance(group, dict))
    return 0


def snapshots(cfg: Offsite) -> list[dict[str, object]]:
    check_credentials()
    doc = json.loads(_restic(cfg, "snapshots", "--json", "--host", TAG, "--tag", TAG) or "[]")
    return [s for s in doc if isinstance(s, dict)] if isinstance(doc, list) else []


def restore_from_offsite(
    cfg: Offsite,
    backup_dir: Path,
    data_dir: Path,
    *,
    snapshot: str = "latest",
    gateway_stopped: bool,
    log: Log = _quiet,
) -> list[str]:
    """Fetch a snapshot into a staging folder beside the local backups, verify it like a local
    backup, and restore it into data_dir. Local backups are never touched; the staging folder
    is removed afterwards, whatever happened."""
    if not gateway_stopped:
        raise BackupError(
            "restore replaces the gateway's databases: stop the gateway first, then pass --gateway-stopped"
        )
    check_credentials()
    try:
        backup_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise BackupError(f"cannot create backup folder {backup_dir}: {err.strerror}") from err
    staging = backup_dir / f"{RESTORE_PREFIX}{stamp(time.time())}"
    try:
        _restic(cfg, "restore", snapshot, "--host", TAG, "--tag", TAG, "--target", str(staging))
        folders = sorted(p.parent for p in staging.rglob(MANIFEST) if read_manifest(p.parent) is not None)
        if len(folders) != 1:
            raise OffsiteError(f"snapshot {snapshot} of {cfg.repository} holds {len(folders)} complete backups, not 1")
        log(f"fetched {folders[0].name} from {cfg.repository} (snapshot {snapshot})")
        return restore(folders[0], data_dir, gateway_stopped=True, log=log)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
