"""Helpers every test that runs real processes on 127.0.0.1 shares: free ports, bounded waits,
processes that are always stopped, HTTP readiness, Debian binaries."""

from __future__ import annotations

import contextlib
import os
import random
import select
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, TypeVar

import requests

T = TypeVar("T")
POLL_S = 0.1
STOP_TIMEOUT_S = 10.0


# Ports free_port handed out in this process: the kernel may offer a released port again at once, and
# two settings of one stack (or two stacks of one run) given the same port clash (seen in the engine suite).
_HANDED_OUT: set[int] = set()


# `make test` runs the engine suite beside the other suites: each process group that runs at the same
# time as another gets a port range of its own (FRIDAY_PORT_RANGE=LOW-HIGH, outside the kernel's
# ephemeral range), so two suites are never handed the same port by the kernel.
PORT_RANGE_ENV = "FRIDAY_PORT_RANGE"


def _port_range() -> range | None:
    text = os.environ.get(PORT_RANGE_ENV, "")
    if not text:
        return None
    low, sep, high = text.partition("-")
    if not (sep and low.isdigit() and high.isdigit() and 1024 <= int(low) < int(high) <= 65535):
        raise RuntimeError(f"{PORT_RANGE_ENV}={text!r}: expected LOW-HIGH, two ports 1024..65535, LOW below HIGH")
    return range(int(low), int(high) + 1)


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port nobody listens on right now (127.0.0.1), never one this process was given before; from
    FRIDAY_PORT_RANGE when set, else one the kernel offers."""
    ports = _port_range()
    if ports is not None:
        start = random.randrange(len(ports))
        for i in range(len(ports)):
            port = ports[(start + i) % len(ports)]
            if port not in _HANDED_OUT and _bindable(port):
                _HANDED_OUT.add(port)
                return port
        raise RuntimeError(f"no free port left in {PORT_RANGE_ENV}={os.environ[PORT_RANGE_ENV]}")
    for _ in range(1000):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port
    raise RuntimeError("no free port on 127.0.0.1 that this process has not handed out already")


def wait_for(
    what: str, probe: Callable[[], T | None], timeout: float, logs: Callable[[], str] = lambda: "", poll: float = POLL_S
) -> T:
    """Poll probe until it returns something truthy; bounded by time and by count."""
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / poll) + 1):
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            break
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{logs()}")


def read_line(stream: IO[Any] | None, timeout: float) -> str:
    """The next line a child writes to a pipe, within timeout seconds; "" at end of file.

    A plain readline() waits forever on a child that hangs before (or in the middle of) a line.
    This reads the pipe's descriptor directly, byte by byte, so nothing sits in a Python buffer:
    use it for every read of that pipe, or let the child's output go to a file instead.
    """
    assert stream is not None, "the child's output is not a pipe"
    fd = stream.fileno()
    deadline = time.monotonic() + timeout
    line = b""
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise AssertionError(f"no complete line from the child within {timeout:.0f}s (so far: {line!r})")
        byte = os.read(fd, 1)
        if not byte:
            break
        line += byte
    return line.decode(errors="replace")


def stop(proc: subprocess.Popen[Any]) -> None:
    """SIGTERM, then SIGKILL if it has not exited within STOP_TIMEOUT_S."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(STOP_TIMEOUT_S)


@contextlib.contextmanager
def process(argv: list[str], log: Path | None = None, **popen: Any) -> Iterator[subprocess.Popen[Any]]:
    """Run argv (stdout and stderr into `log` when given) and stop it on leaving, whatever happened."""
    if log is not None:
        with log.open("wb") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, **popen)
    else:
        proc = subprocess.Popen(argv, **popen)
    try:
        yield proc
    finally:
        stop(proc)


def port_open(port: int) -> bool:
    """Something accepts TCP connections on 127.0.0.1:port."""
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


@contextlib.contextmanager
def running(
    args: list[str], log: Path, ports: list[int], env: Mapping[str, str] | None = None, timeout: float = 15.0
) -> Iterator[subprocess.Popen[Any]]:
    """Run args (output to log) until every port accepts connections; always stopped afterwards."""
    with process(args, log, env=env) as proc:
        for port in ports:

            def ready(port: int = port) -> bool:
                if proc.poll() is not None:
                    raise AssertionError(f"{args[0]} exited with {proc.returncode}\n{log_tail(log)}")
                return port_open(port)

            wait_for(f"{args[0]} on 127.0.0.1:{port}", ready, timeout, lambda: log_tail(log))
        yield proc


def http_ok(url: str) -> bool:
    """GET url answers 200 (False on any connection problem)."""
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def log_tail(log: Path, lines: int = 15) -> str:
    text = log.read_text(errors="replace") if log.exists() else ""
    return f"--- {log.name} (last lines)\n" + "\n".join(text.splitlines()[-lines:])


def binary(*names: str) -> str:
    """The first of names found on PATH or in the system folders (Debian packages)."""
    for name in names:
        for where in (shutil.which(name), shutil.which(name, path="/usr/bin:/usr/sbin:/bin:/sbin")):
            if where:
                return where
    raise AssertionError(f"{names[0]} is required (scripts/bootstrap.sh installs the Debian package)")


def wait_healthy(proc: subprocess.Popen[Any], url: str, what: str, logs: Callable[[], str], timeout: float) -> None:
    """Wait until GET `url` answers 200; fail at once with `logs()` when `proc` exits meanwhile."""

    def healthy() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"{what} exited with {proc.returncode}:\n{logs()[-4000:]}")
        return http_ok(url)

    wait_for(f"{what}'s {url}", healthy, timeout, logs)
