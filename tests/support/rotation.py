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
import os
import pwd
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infra.host import layout
from infra.host.artefacts import gateway_yaml
from infra.host.logrotate import logrotate_config
from infra.logs.lines import classify
from infra.settings import Settings
from testbed.paths import REPO_ROOT
from testbed.processes import STOP_TIMEOUT_S, free_port
from testbed.settings import settings_of
from tests.support.real_gateway import RealGateway, gateway_command, require_build, secret_env

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
    forced: int  # logrotate runs forced
    rotations: int  # runs that made a new copy (notifempty skips a run that finds the file empty)
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


def host_settings(keep: int = 200) -> Settings:
    """Settings of a bare-metal host whose log rotation the tests run; the gateway logs at debug
    (request lines are debug lines). Its folders and user are the rendered defaults: write_config
    points the rendered file at the test's folder and user (a user named root, or a folder under /tmp,
    are refused as settings)."""
    return settings_of({"hostLogRotateKeep": keep, "gatewayLogLevel": "debug"}, stack="rotation-test")


def write_config(settings: Settings, path: Path, log_dir: Path) -> Path:
    """The rendered logrotate file, rotating log_dir/gateway.log as the current user."""
    text = logrotate_config(settings)
    rendered = layout.log_file(settings)
    assert text.count(rendered) == 1, f"{rendered} not once in the rendered logrotate file"
    text = text.replace(rendered, str(log_dir / layout.LOG_NAME))
    user, group = current_user()
    owner = layout.service_user(settings)
    text = text.replace(f"su {owner[0]} {owner[1]}", f"su {user} {group}")
    path.write_text(text, encoding="utf-8")
    path.chmod(0o644)  # logrotate ignores group/world-writable configs
    return path


def logrotate(conf: Path, state: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["logrotate", "-f", "-s", str(state), str(conf)], capture_output=True, text=True, timeout=30, check=False
    )


SeqOf = Callable[[dict[str, Any]], int | None]


def writer_seq(record: dict[str, Any]) -> int | None:
    seq = record.get("seq")
    return seq if isinstance(seq, int) else None


def request_seq(record: dict[str, Any]) -> int | None:
    """The gateway's request line (level debug) has each request's URL: /health?seq=N."""
    match = re.fullmatch(r"/health\?seq=(\d+)", str(record.get("url", "")))
    return int(match.group(1)) if match else None


def count_lines(log_dir: Path, expected: int, seq_of: SeqOf) -> tuple[collections.Counter[int], int, int]:
    """Numbered lines seen (with repeats), corrupted lines, and other whole lines: JSON lines
    without a number and the gateway's plain text (its start banner, its stop lines), which are
    counted as text on purpose, never as corruption (infra/logs/lines.py)."""
    seen: collections.Counter[int] = collections.Counter()
    corrupted = other = 0
    for path in sorted(log_dir.glob(layout.LOG_NAME + "*")):
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        for raw in data.split(b"\n"):
            if not raw:
                continue
            line = classify(raw.decode("utf-8", "replace"))
            if line.kind == "broken":
                corrupted += 1
                continue
            seq = seq_of(line.record) if line.record is not None else None
            if seq is None:
                other += 1
            elif 0 <= seq < expected:
                seen[seq] += 1
            else:
                corrupted += 1
    return seen, corrupted, other


@dataclass(frozen=True)
class _Setup:
    log_dir: Path
    log_path: Path
    conf: Path
    state: Path


def _setup(work: Path) -> _Setup:
    log_dir = work / "log"
    log_dir.mkdir(parents=True)
    log_dir.chmod(0o750)
    conf = write_config(host_settings(), work / "logrotate.conf", log_dir)
    return _Setup(log_dir, log_dir / layout.LOG_NAME, conf, work / "logrotate.state")


def _copy_id(setup: _Setup) -> tuple[int, int] | None:
    """The identity of the newest copy (`gateway.log.1`): copytruncate writes a new file each time it rotates."""
    try:
        st = (setup.log_dir / f"{layout.LOG_NAME}.1").stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns


def _rotate_while(busy: Callable[[], bool], setup: _Setup, every_s: float, deadline: float) -> tuple[int, int]:
    """Force rotations while `busy`; returns (forced runs, runs that rotated). A forced run that finds
    the file empty rotates nothing (notifempty), which happens when a loaded machine starves the
    writer between two runs: only the runs that made a new copy can lose lines or leave a hole."""
    forced = rotated = 0
    while busy() and time.monotonic() < deadline:
        time.sleep(every_s)
        if not busy():
            break
        before = _copy_id(setup)
        done = logrotate(setup.conf, setup.state)
        if done.returncode != 0 or done.stderr.strip():
            raise RuntimeError(f"logrotate failed ({done.returncode}): {done.stderr.strip()}")
        forced += 1
        after = _copy_id(setup)
        rotated += int(after is not None and after != before)
    return forced, rotated


def _result(
    setup: _Setup, written: int, rotation_runs: tuple[int, int], rate: float, started: float, *, seq_of: SeqOf
) -> Result:
    seen, corrupted, _ = count_lines(setup.log_dir, written, seq_of)
    missing = sorted(set(range(written)) - set(seen))
    runs: list[int] = []  # lengths of runs of consecutive lost lines
    prev = -2
    for seq in missing:
        if seq == prev + 1:
            runs[-1] += 1
        else:
            runs.append(1)
        prev = seq
    rotated = [p for p in setup.log_dir.iterdir() if p.name != layout.LOG_NAME]
    return Result(
        rate=rate,
        written=written,
        forced=rotation_runs[0],
        rotations=rotation_runs[1],
        rotated_files=len(rotated),
        compressed_files=sum(1 for p in rotated if p.suffix == ".gz"),
        lost=len(missing),
        duplicated=sum(1 for c in seen.values() if c > 1),
        corrupted=corrupted,
        loss_runs=len(runs),
        longest_run=max(runs, default=0),
        seconds=round(time.monotonic() - started, 2),
    )


def measure(
    work: Path, rate: float, count: int, every_s: float, max_seconds: float = 30.0, *, append: bool = True
) -> Result:
    """The small writer: `count` lines at `rate`/s while a rotation is forced every `every_s` s.

    append=False opens the file without O_APPEND, as systemd's `StandardOutput=file:` does.
    """
    setup = _setup(work)
    started = time.monotonic()
    command = [sys.executable, "-m", "tests.support.append_writer", "--count", str(count), "--rate", str(rate)]
    with setup.log_path.open("ab" if append else "wb") as out:  # "ab": O_APPEND, like StandardOutput=append:
        writer = subprocess.Popen(
            [*command, "--max-seconds", str(max_seconds)], stdout=out, stderr=subprocess.PIPE, cwd=REPO_ROOT
        )
    try:
        runs = _rotate_while(lambda: writer.poll() is None, setup, every_s, started + max_seconds + 10)
        _, err = writer.communicate(timeout=max_seconds + 10)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait(STOP_TIMEOUT_S)
    written = int(err.decode().split()[-1]) if err.startswith(b"written") else -1
    if writer.returncode != 0 or written < 0:
        raise RuntimeError(f"writer failed ({writer.returncode}): {err.decode().strip()}")
    return _result(setup, written, runs, rate, started, seq_of=writer_seq)


@dataclass(frozen=True)
class GatewayResult:
    result: Result
    alive_after_rotations: bool
    exit_code: int
    live_file_starts_clean: bool
    # The gateway's plain-text lines (not blank) found in the live file and every copy, in file order.
    text_lines: tuple[str, ...]


def text_lines(log_dir: Path) -> tuple[str, ...]:
    """The non-blank lines classified as text in the live log and its rotated copies (oldest first)."""

    def age(path: Path) -> int:
        suffix = path.name.removeprefix(layout.LOG_NAME).removesuffix(".gz").lstrip(".")
        return int(suffix) if suffix.isdigit() else 0

    found: list[str] = []
    for path in sorted(log_dir.glob(layout.LOG_NAME + "*"), key=age, reverse=True):
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        for raw in data.decode("utf-8", "replace").split("\n"):
            line = classify(raw)
            if line.kind == "text" and line.text.strip():
                found.append(line.text)
    return tuple(found)


def local_gateway_config(settings: Settings, data_dir: Path, port: int) -> dict[str, Any]:
    """The rendered bare-metal gateway.yaml (its logging.level is what makes request lines appear),
    with only the places changed: a data folder here and a free port on 127.0.0.1."""
    config: dict[str, Any] = yaml.safe_load(gateway_yaml(settings))
    config["core"]["dataDir"] = str(data_dir)
    config["gateway"].update({"host": "127.0.0.1", "port": port})
    return config


def measure_gateway(
    work: Path, requests_count: int, every_s: float, max_seconds: float = 20.0, rate: float = 500.0
) -> GatewayResult:
    """The REAL gateway as the unit runs it: stdout appended to the log file (opened once with
    O_APPEND, as `StandardOutput=append:`), never reopened. Each `GET /health?seq=N` logs one
    debug line, at most `rate` per second (paced, so the number of rotations does not depend on
    how fast this machine is); rotations are forced meanwhile. Skips (fails under CI=true) when no
    real gateway can be built here."""
    import requests  # test-only dependency

    setup = _setup(work)
    settings = host_settings()
    build = require_build()
    port = free_port()
    config = work / "gateway.yaml"
    config.write_text(yaml.safe_dump(local_gateway_config(settings, work / "data", port)), encoding="utf-8")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(work),
        "SECUREYEOMAN_ENV": settings.gateway_environment_value,
        **secret_env(),
    }
    with setup.log_path.open("ab") as out:  # "ab": O_APPEND, like StandardOutput=append:
        proc = subprocess.Popen(
            gateway_command(build, ["--config", str(config)]), stdout=out, stderr=subprocess.STDOUT, env=env, cwd=work
        )
    gw = RealGateway(
        proc, f"http://127.0.0.1:{port}", env["SECUREYEOMAN_ADMIN_PASSWORD"], setup.log_path, work / "data"
    )
    sent = 0
    try:
        gw.wait_healthy()
        started = time.monotonic()
        stop_at = started + max_seconds

        def send() -> None:
            nonlocal sent
            with requests.Session() as session:
                for seq in range(requests_count):
                    now = time.monotonic()
                    if now > stop_at:
                        break
                    due = started + seq / rate
                    if due > now:
                        time.sleep(due - now)
                    session.get(f"{gw.url}/health", params={"seq": seq}, timeout=5).raise_for_status()
                    sent += 1

        sender = threading.Thread(target=send, name="requests", daemon=True)
        sender.start()
        runs = _rotate_while(sender.is_alive, setup, every_s, stop_at + 5)
        sender.join(timeout=10)
        elapsed = time.monotonic() - started
        alive = proc.poll() is None
        code = gw.signal(signal.SIGTERM)
    finally:
        gw.stop()
    head_line = setup.log_path.read_bytes().split(b"\n", 1)[0]
    result = _result(setup, sent, runs, sent / elapsed if elapsed else 0.0, started, seq_of=request_seq)
    # Clean: empty, or a whole line (JSON, or the gateway's text: the stop lines after a late
    # rotation); never the NULs of a hole or a torn line.
    clean = head_line == b"" or classify(head_line.decode("utf-8", "replace")).kind != "broken"
    return GatewayResult(result, alive, code, clean, text_lines(setup.log_dir))


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
