"""Command line: backup | offsite | verify | restore | list | serve. Exit 0 ok, 1 failed, 2 bad usage."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .core import BackupError, backup_lock, latest_complete, list_backups, restore, verify
from .metrics import record_offsite
from .offsite import Keep, Offsite, restore_from_offsite, send
from .service import ServeOptions, log, run_once, serve

PROG = "python -m infra.backup"


def _positive(value: str) -> int:
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def _interval(value: str) -> float:
    n = float(value)
    if not 1 <= n <= 7 * 86400:
        raise argparse.ArgumentTypeError(f"must be between 1 and 604800 seconds, got {value}")
    return n


def _nonnegative(value: str) -> int:
    n = int(value)
    if not 0 <= n <= 10000:
        raise argparse.ArgumentTypeError(f"must be between 0 and 10000, got {n}")
    return n


def _offsite(args: argparse.Namespace) -> Offsite | None:
    repo: str | None = args.offsite_repository
    if not repo:
        return None
    keep = Keep(args.offsite_keep_last, args.offsite_keep_daily, args.offsite_keep_weekly, args.offsite_keep_monthly)
    return Offsite(repo, keep, restic=args.restic)


def _offsite_args(s: argparse.ArgumentParser, *, keep: bool) -> None:
    s.add_argument(
        "--offsite-repository",
        help="restic repository for off-host copies (s3:https://HOST/BUCKET/PATH); its password comes from "
        "RESTIC_PASSWORD(_FILE), the store's keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
    )
    s.add_argument("--restic", default="restic", help=argparse.SUPPRESS)
    for rule in ("last", "daily", "weekly", "monthly"):
        default = 0
        if keep:
            s.add_argument(f"--offsite-keep-{rule}", type=_nonnegative, default=default, help=f"restic --keep-{rule}")
        else:
            s.set_defaults(**{f"offsite_keep_{rule}": default})


def _pick(backup_dir: Path, name: str | None) -> Path:
    if name:
        folder = backup_dir / name
        if not folder.is_dir():
            raise BackupError(f"no backup {name!r} in {backup_dir}")
        return folder
    latest = latest_complete(backup_dir)
    if latest is None:
        raise BackupError(f"no complete backup in {backup_dir}")
    return latest.path


def _backup(args: argparse.Namespace) -> int:
    opts = ServeOptions(
        args.data_dir,
        args.backup_dir,
        args.retention,
        interval_s=0,
        host="",
        port=0,
        textfile=args.textfile,
        offsite=_offsite(args),
    )
    ok, _ = run_once(opts)
    return 0 if ok else 1


def _offsite_copy(args: argparse.Namespace) -> int:
    """The newest complete local backup to the object store, alone (where the copy is a job of its own:
    Kubernetes), counted in the off-host metrics like the copy after a backup. Holds the backup lock, so
    no backup prunes the folder being sent."""
    offsite = _offsite(args)
    if offsite is None:
        raise BackupError("offsite needs --offsite-repository")
    with backup_lock(args.backup_dir):
        latest = latest_complete(args.backup_dir)
        if latest is None:
            record_offsite(args.backup_dir, finished=None)
            raise BackupError(f"no complete backup in {args.backup_dir} to copy off-host")
        try:
            sent = send(latest, offsite, log=log)
        except BackupError as err:
            record_offsite(args.backup_dir, finished=None)
            raise BackupError(f"off-host copy of {latest.name} failed (local backups untouched): {err}") from err
        record_offsite(args.backup_dir, finished=time.time(), duration=sent.duration)
    log(f"off-host copy of {latest.name}: snapshot {sent.snapshot} in {sent.duration:.2f}s, {sent.removed} old removed")
    return 0


def _verify(args: argparse.Namespace) -> int:
    folder = _pick(args.backup_dir, args.name)
    problems = verify(folder)
    for p in problems:
        print(f"FAIL {p}", file=sys.stderr)
    if not problems:
        print(f"{folder.name}: complete, checksums match, integrity ok")
    return 1 if problems else 0


def _restore(args: argparse.Namespace) -> int:
    if args.from_offsite:
        return _restore_offsite(args)
    folder = _pick(args.backup_dir, args.name)
    restored = restore(folder, args.data_dir, gateway_stopped=args.gateway_stopped, log=log)
    print(f"restored {len(restored)} databases from {folder.name} into {args.data_dir}")
    return 0


def _restore_offsite(args: argparse.Namespace) -> int:
    offsite = _offsite(args)
    if offsite is None:
        raise BackupError("--from-offsite needs --offsite-repository")
    try:
        restored = restore_from_offsite(
            offsite,
            args.backup_dir,
            args.data_dir,
            snapshot=args.name or "latest",
            gateway_stopped=args.gateway_stopped,
            log=log,
        )
    except BackupError as err:
        if args.gateway_stopped:
            # A failed restore from off-host counts like a failed off-host copy (the metric).
            record_offsite(args.backup_dir, finished=None)
        raise BackupError(f"{err} (local backups in {args.backup_dir} untouched)") from err
    print(f"restored {len(restored)} databases from {offsite.repository} into {args.data_dir}")
    return 0


def _list(args: argparse.Namespace) -> int:
    backups = list_backups(args.backup_dir)
    if args.json:
        doc = [
            {"name": b.name, "complete": b.complete, "finished_ts": b.finished, "total_bytes": b.size} for b in backups
        ]
        print(json.dumps(doc, indent=2))
        return 0
    now = time.time()
    for b in backups:
        if b.complete:
            print(f"{b.name}  complete  {b.size:>12} bytes  {(now - b.finished) / 3600:8.1f} h old")
        else:
            print(f"{b.name}  INCOMPLETE (no manifest; removed by the next backup)")
    if not backups:
        print(f"no backups in {args.backup_dir}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    host, _, port = args.listen.rpartition(":")
    return serve(
        ServeOptions(
            args.data_dir,
            args.backup_dir,
            args.retention,
            interval_s=args.interval_seconds,
            host=host or "0.0.0.0",
            port=int(port),
            textfile=args.textfile,
            max_runs=args.max_runs,
            offsite=_offsite(args),
        )
    )


def parser(prog: str = PROG) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description="Online backups of the gateway's SQLite databases.")
    sub = p.add_subparsers(dest="command", required=True)

    def cmd(name: str, help_: str, *, data: bool = False) -> argparse.ArgumentParser:
        s = sub.add_parser(name, help=help_)
        s.add_argument("--backup-dir", type=Path, required=True, help="folder holding the backups")
        if data:
            s.add_argument("--data-dir", type=Path, required=True, help="the gateway's core.dataDir")
        return s

    s = cmd("backup", "take one backup now, then apply retention", data=True)
    s.add_argument("--retention", type=_positive, required=True, help="complete backups to keep")
    s.add_argument("--textfile", type=Path, help="also write the metrics to this .prom file")
    _offsite_args(s, keep=True)
    s.set_defaults(func=_backup)

    s = cmd("offsite", "send the newest complete backup to the off-host repository now")
    _offsite_args(s, keep=True)
    s.set_defaults(func=_offsite_copy)

    s = cmd("verify", "check a backup: manifest, sizes, sha256, integrity_check")
    s.add_argument("name", nargs="?", help="backup name (default: newest complete)")
    s.set_defaults(func=_verify)

    s = cmd("restore", "put a verified backup's databases into the data folder", data=True)
    s.add_argument("name", nargs="?", help="backup name, or snapshot id with --from-offsite (default: newest)")
    s.add_argument(
        "--from-offsite",
        action="store_true",
        help="fetch the backup from the off-host restic repository (into a staging folder) and restore that",
    )
    _offsite_args(s, keep=False)
    s.add_argument(
        "--gateway-stopped",
        action="store_true",
        help="confirm the gateway is stopped (restore also refuses databases another process has open)",
    )
    s.set_defaults(func=_restore)

    s = cmd("list", "list backups, oldest first")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=_list)

    s = cmd("serve", "loop: back up every interval and serve /metrics and /health", data=True)
    s.add_argument("--retention", type=_positive, required=True)
    s.add_argument("--interval-seconds", type=_interval, required=True)
    # No default: the stack passes backupMetricsPort, the one place that port is set.
    s.add_argument("--listen", required=True, help="HOST:PORT of the metrics endpoint")
    s.add_argument("--textfile", type=Path)
    s.add_argument("--max-runs", type=_positive, help=argparse.SUPPRESS)
    _offsite_args(s, keep=True)
    s.set_defaults(func=_serve)
    return p


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    args = parser(prog).parse_args(argv)
    try:
        code: int = args.func(args)
    except BackupError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return code
