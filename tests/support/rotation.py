"""Measure what logrotate's copytruncate loses while a process keeps appending to its log.

A writer (tests.support.append_writer) gets the log file as stdout, opened once in append
mode the way systemd's `StandardOutput=append:` does, and writes numbered lines at a fixed
rate. Meanwhile `logrotate -f -s STATE CONF` forces rotations with the rendered config.
Afterwards every line in the live file and in the rotated copies (plain and gzip) is
counted: lost, duplicated and corrupted lines, and the runs of consecutive lost lines.

    python -m tests.support.rotation --rates 100 1000 5000   (prints a table for docs/logging.md)
"""

from __future__ import annotations

import argparse
import collections
import grp
import gzip
import json
import os
import pwd
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from infra.host import layout
from infra.host.logrotate import logrotate_config
from infra.settings import Settings
from infra.settings.load import RawConfig, validate
from tests.support.paths import REPO_ROOT

# The bound the tests assert and docs/logging.md states: per rotation, at most the lines
# written in this long a window (plus the one being written). Measured windows here are
# 1-3 ms; 50 ms leaves room for a loaded CI machine.
WINDOW_BOUND_S = 0.05


def max_lost(rate: float, rotations: int) -> int:
    return rotations * (int(rate * WINDOW_BOUND_S) + 1)


@dataclass(frozen=True)
class Result:
    rate: float
    written: int
    rotations: int
    rotated_files: int
    compressed_files: int
    lost: int
    duplicated: int
    corrupted: int
    loss_runs: int
    longest_run: int
    seconds: float

    @property
    def lost_per_rotation(self) -> float:
        return self.lost / self.rotations if self.rotations else 0.0


def current_user() -> tuple[str, str]:
    return pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name


def host_settings(log_dir: Path, keep: int = 200) -> Settings:
    """Settings whose host paths point into a temporary folder, rotating as the current user."""
    user, _ = current_user()
    return validate(
        RawConfig("rotation-test", {"hostLogDir": str(log_dir), "hostUser": user, "hostLogRotateKeep": keep})
    )


def write_config(settings: Settings, path: Path) -> Path:
    text = logrotate_config(settings)
    user, group = current_user()
    if group != user:  # the rendered `su USER USER` assumes a group named like the user
        text = text.replace(f"su {user} {user}", f"su {user} {group}")
    path.write_text(text, encoding="utf-8")
    path.chmod(0o644)  # logrotate ignores group/world-writable configs
    return path


def logrotate(conf: Path, state: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["logrotate", "-f", "-s", str(state), str(conf)], capture_output=True, text=True, timeout=30, check=False
    )


def count_lines(log_dir: Path, expected: int) -> tuple[collections.Counter[int], int]:
    seen: collections.Counter[int] = collections.Counter()
    corrupted = 0
    for path in sorted(log_dir.glob(layout.LOG_NAME + "*")):
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        for raw in data.split(b"\n"):
            if not raw:
                continue
            try:
                seq = json.loads(raw)["seq"]
            except (ValueError, KeyError, TypeError):
                corrupted += 1
                continue
            if not isinstance(seq, int) or not 0 <= seq < expected:
                corrupted += 1
            else:
                seen[seq] += 1
    return seen, corrupted


def measure(work: Path, rate: float, count: int, every_s: float, max_seconds: float = 30.0) -> Result:
    """Write `count` lines at `rate`/s while forcing a rotation every `every_s` seconds."""
    log_dir = work / "log"
    log_dir.mkdir(parents=True)
    log_dir.chmod(0o750)
    settings = host_settings(log_dir)
    conf = write_config(settings, work / "logrotate.conf")
    state = work / "logrotate.state"
    log_path = Path(layout.log_file(settings))
    started = time.monotonic()
    rotations = 0
    with log_path.open("ab") as out:  # O_APPEND, like StandardOutput=append:
        writer = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.append_writer",
                "--count",
                str(count),
                "--rate",
                str(rate),
                "--max-seconds",
                str(max_seconds),
            ],
            stdout=out,
            stderr=subprocess.PIPE,
            cwd=REPO_ROOT,
        )
    try:
        deadline = started + max_seconds + 10
        while writer.poll() is None and time.monotonic() < deadline:
            time.sleep(every_s)
            if writer.poll() is not None:
                break
            done = logrotate(conf, state)
            if done.returncode != 0 or done.stderr.strip():
                raise RuntimeError(f"logrotate failed ({done.returncode}): {done.stderr.strip()}")
            rotations += 1
        _, err = writer.communicate(timeout=max_seconds + 10)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    written = int(err.decode().split()[-1]) if err.startswith(b"written") else -1
    if writer.returncode != 0 or written < 0:
        raise RuntimeError(f"writer failed ({writer.returncode}): {err.decode().strip()}")
    seen, corrupted = count_lines(log_dir, written)
    missing = sorted(set(range(written)) - set(seen))
    runs: list[int] = []  # lengths of runs of consecutive lost lines
    prev = -2
    for seq in missing:
        if seq == prev + 1:
            runs[-1] += 1
        else:
            runs.append(1)
        prev = seq
    rotated = [p for p in log_dir.iterdir() if p.name != layout.LOG_NAME]
    return Result(
        rate=rate,
        written=written,
        rotations=rotations,
        rotated_files=len(rotated),
        compressed_files=sum(1 for p in rotated if p.suffix == ".gz"),
        lost=len(missing),
        duplicated=sum(1 for c in seen.values() if c > 1),
        corrupted=corrupted,
        loss_runs=len(runs),
        longest_run=max(runs, default=0),
        seconds=round(time.monotonic() - started, 2),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", type=float, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--seconds", type=float, default=5.0, help="writing time per rate")
    parser.add_argument("--every", type=float, default=0.25, help="seconds between forced rotations")
    args = parser.parse_args(argv)
    print("| lines/s | written | rotations | lost | lost/rotation | longest run | duplicated | corrupted |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for rate in args.rates:
        with tempfile.TemporaryDirectory() as tmp:
            r = measure(Path(tmp), rate, int(rate * args.seconds), args.every, max_seconds=args.seconds * 3)
        print(
            f"| {rate:g} | {r.written} | {r.rotations} | {r.lost} | {r.lost_per_rotation:.2f} | "
            f"{r.longest_run} | {r.duplicated} | {r.corrupted} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
