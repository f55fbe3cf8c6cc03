"""The backup metrics: their catalog, the state they come from, and their text exposition.

These are not gateway metrics (infra/metrics/catalog.py lists what the gateway exposes, with
seed/gateway provenance), so they have their own small catalog here. One renderer serves the
node-exporter textfile (bare metal) and the HTTP endpoint of the backup service (Docker).

State lives in `<backup dir>/state.json` so that a one-shot run (systemd timer, CronJob) keeps
the failure count of earlier runs; the last success is also recoverable from the newest
complete manifest if the state file is lost.
"""

from __future__ import annotations

import contextlib
import json
import math
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Literal

from .core import STATE, BackupResult, latest_complete, list_backups, write_atomic

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True)
class BackupMetric:
    name: str
    type: Literal["gauge", "counter"]
    help: str
    state_field: str
    # Only exposed when off-host copies are configured (so their alert cannot fire without them).
    offsite: bool = False


LAST_SUCCESS = "friday_backup_last_success_timestamp_seconds"
KEPT = "friday_backup_kept"
OFFSITE_LAST_SUCCESS = "friday_backup_offsite_last_success_timestamp_seconds"
OFFSITE_FAILURES = "friday_backup_offsite_failures_total"

METRICS: tuple[BackupMetric, ...] = (
    BackupMetric(
        LAST_SUCCESS,
        "gauge",
        "Unix time the newest complete backup finished (0 when there is none)",
        "last_success",
    ),
    BackupMetric(
        "friday_backup_last_duration_seconds", "gauge", "Duration of the newest complete backup", "last_duration"
    ),
    BackupMetric(
        "friday_backup_last_size_bytes", "gauge", "Bytes of database copies in the newest complete backup", "last_size"
    ),
    BackupMetric(
        "friday_backup_last_attempt_timestamp_seconds",
        "gauge",
        "Unix time the last backup attempt ended, successful or not",
        "last_attempt",
    ),
    BackupMetric("friday_backup_failures_total", "counter", "Backup attempts that failed", "failures"),
    BackupMetric(KEPT, "gauge", "Complete backups in the backup folder", "kept"),
    BackupMetric(
        OFFSITE_LAST_SUCCESS,
        "gauge",
        "Unix time the last off-host copy (restic snapshot) of a backup finished (0 when there is none)",
        "offsite_last_success",
        offsite=True,
    ),
    BackupMetric(
        "friday_backup_offsite_last_duration_seconds",
        "gauge",
        "Duration of the last successful off-host copy, retention included",
        "offsite_last_duration",
        offsite=True,
    ),
    BackupMetric(
        OFFSITE_FAILURES,
        "counter",
        "Off-host copies and restores from off-host that failed",
        "offsite_failures",
        offsite=True,
    ),
)
NAMES: frozenset[str] = frozenset(m.name for m in METRICS)


@dataclass(frozen=True)
class BackupState:
    last_success: float = 0.0
    last_duration: float = 0.0
    last_size: float = 0.0
    last_attempt: float = 0.0
    failures: float = 0.0
    kept: float = 0.0
    offsite_last_success: float = 0.0
    offsite_last_duration: float = 0.0
    offsite_failures: float = 0.0


def load_state(backup_dir: Path) -> BackupState:
    """The recorded state, completed from the manifests when the file is missing or damaged."""
    known = {f.name for f in fields(BackupState)}
    try:
        raw = json.loads((backup_dir / STATE).read_text(encoding="utf-8"))
        state = BackupState(**{k: float(v) for k, v in raw.items() if k in known})
    except (OSError, ValueError, TypeError):
        state = BackupState()
    latest = latest_complete(backup_dir)
    if latest is not None and latest.finished > state.last_success:
        state = BackupState(
            last_success=latest.finished,
            last_duration=latest.duration,
            last_size=float(latest.size),
            last_attempt=max(state.last_attempt, latest.finished),
            failures=state.failures,
            kept=state.kept,
            offsite_last_success=state.offsite_last_success,
            offsite_last_duration=state.offsite_last_duration,
            offsite_failures=state.offsite_failures,
        )
    return state


def record_success(backup_dir: Path, result: BackupResult) -> BackupState:
    old = load_state(backup_dir)
    state = BackupState(
        last_success=result.info.finished,
        last_duration=result.duration,
        last_size=float(result.info.size),
        last_attempt=result.info.finished,
        failures=old.failures,
        kept=float(sum(1 for b in list_backups(backup_dir) if b.complete)),
        offsite_last_success=old.offsite_last_success,
        offsite_last_duration=old.offsite_last_duration,
        offsite_failures=old.offsite_failures,
    )
    _save(backup_dir, state)
    return state


def record_failure(backup_dir: Path, when: float) -> BackupState:
    """Count a failure; the state file may be unwritable (that may be the failure): then in memory only."""
    old = load_state(backup_dir)
    state = BackupState(
        last_success=old.last_success,
        last_duration=old.last_duration,
        last_size=old.last_size,
        last_attempt=when,
        failures=old.failures + 1,
        kept=float(sum(1 for b in list_backups(backup_dir) if b.complete)),
        offsite_last_success=old.offsite_last_success,
        offsite_last_duration=old.offsite_last_duration,
        offsite_failures=old.offsite_failures,
    )
    with contextlib.suppress(OSError):
        _save(backup_dir, state)
    return state


def record_offsite(backup_dir: Path, *, finished: float | None, duration: float = 0.0) -> BackupState:
    """An off-host copy (or a restore from off-host) ended: at `finished` when it succeeded, failed
    when None. Like record_failure, kept in memory only when the state file cannot be written."""
    old = load_state(backup_dir)
    if finished is None:
        state = replace(old, offsite_failures=old.offsite_failures + 1)
    else:
        state = replace(old, offsite_last_success=finished, offsite_last_duration=duration)
    with contextlib.suppress(OSError):
        _save(backup_dir, state)
    return state


def _save(backup_dir: Path, state: BackupState) -> None:
    write_atomic(backup_dir / STATE, json.dumps(asdict(state), indent=2) + "\n")


def _number(value: float) -> str:
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def exposition(state: BackupState, *, offsite: bool = False) -> str:
    """The metrics in Prometheus text format 0.0.4 (the off-host ones when `offsite`)."""
    lines = []
    for m in METRICS:
        if m.offsite and not offsite:
            continue
        lines.append(f"# HELP {m.name} {m.help}")
        lines.append(f"# TYPE {m.name} {m.type}")
        lines.append(f"{m.name} {_number(float(getattr(state, m.state_field)))}")
    return "\n".join(lines) + "\n"


def write_textfile(path: Path, state: BackupState, *, offsite: bool = False) -> None:
    """For node-exporter's textfile collector: written atomically, as it requires."""
    write_atomic(path, exposition(state, offsite=offsite))
