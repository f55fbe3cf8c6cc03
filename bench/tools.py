"""Wall time and peak memory of the project's commands, each a fresh Python process (imports
included, as an operator runs them): `render`, `check` and the Pulumi program under mocks."""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from testbed.paths import REPO_ROOT

TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mib: float
    ok: bool
    output: str


@dataclass(frozen=True)
class Measured:
    name: str
    seconds: float  # median
    peak_mib: float  # largest of the runs
    ok: bool
    note: str


def run_once(argv: list[str], timeout: float = TIMEOUT_S) -> Run:
    """Run argv from the repository root; its own wall time and peak RSS (os.wait4)."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT)
        timer = threading.Timer(timeout, lambda: os.kill(proc.pid, signal.SIGKILL))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        elapsed = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode(errors="replace")
    # ru_maxrss is in KiB on Linux.
    return Run(elapsed, usage.ru_maxrss / 1024, proc.returncode == 0, text)


def measure(name: str, argv: list[str], repeats: int) -> Measured:
    runs = [run_once(argv) for _ in range(repeats)]
    ok = all(r.ok for r in runs)
    note = "" if ok else next(r.output for r in runs if not r.ok).strip().splitlines()[-1][:200]
    return Measured(name, statistics.median(r.seconds for r in runs), max(r.peak_mib for r in runs), ok, note)


def commands(work: Path) -> dict[str, list[str]]:
    py = sys.executable
    return {
        "render --stack dev": [py, "-m", "infra", "render", "--stack", "dev", "--out", str(work / "render")],
        "check --stack dev": [py, "-m", "infra", "check", "--stack", "dev"],
        "check --stack prod": [py, "-m", "infra", "check", "--stack", "prod"],
        "Pulumi program, dev, under mocks": [py, "-m", "bench.program", "dev"],
        "Pulumi program, prod, under mocks": [py, "-m", "bench.program", "prod"],
    }


def measure_all(work: Path, repeats: int) -> list[Measured]:
    return [measure(name, argv, repeats) for name, argv in commands(work).items()]
