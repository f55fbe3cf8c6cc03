"""`serve`: the long-lived backup container. Backs up every interval and serves /metrics.

Prometheus scrapes /metrics (text format, same renderer as the textfile); /health answers
200 while the loop is alive, so the container healthcheck notices a stuck or dead loop.
SIGTERM and SIGINT end it between backups or after the one running.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType

from .core import BackupError, BackupInfo, backup
from .metrics import (
    CONTENT_TYPE,
    BackupState,
    exposition,
    load_state,
    record_failure,
    record_offsite,
    record_success,
    write_textfile,
)
from .offsite import Offsite, send


@dataclass(frozen=True)
class ServeOptions:
    data_dir: Path
    backup_dir: Path
    retention: int
    interval_s: float
    host: str
    port: int
    textfile: Path | None = None
    # Stop after this many backup attempts (tests); None: until a signal.
    max_runs: int | None = None
    # Off-host copies: after each complete local backup, restic sends it there.
    offsite: Offsite | None = None


def log(message: str) -> None:
    print(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {message}", file=sys.stderr, flush=True)


class _Status:
    def __init__(self, state: BackupState, interval_s: float) -> None:
        self.lock = threading.Lock()
        self.state = state
        self.beat = time.monotonic()
        self.interval_s = interval_s

    def alive(self) -> bool:
        # A backup that runs longer than an interval plus an hour counts as stuck.
        return time.monotonic() - self.beat < self.interval_s + 3600


def _handler(status: _Status, offsite: bool) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                with status.lock:
                    body = exposition(status.state, offsite=offsite).encode()
                self._send(200, CONTENT_TYPE, body)
            elif self.path == "/health":
                ok = status.alive()
                self._send(200 if ok else 503, "text/plain", b"ok\n" if ok else b"backup loop stuck\n")
            else:
                self._send(404, "text/plain", b"not found\n")

        def _send(self, code: int, ctype: str, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return None

    return Handler


def run_once(opts: ServeOptions) -> tuple[bool, BackupState]:
    """One backup attempt, recorded in the state file (and the textfile when asked)."""
    try:
        result = backup(opts.data_dir, opts.backup_dir, retention=opts.retention, log=log)
    except BackupError as err:
        log(f"backup failed: {err}")
        state = record_failure(opts.backup_dir, time.time())
        ok = False
    else:
        log(f"backup {result.info.name} complete: {result.info.size} bytes in {result.duration:.2f}s")
        for name in result.missing_known:
            log(f"note: {name} is not in the data folder (the gateway may not have created it yet)")
        state = record_success(opts.backup_dir, result)
        ok = True
        if opts.offsite is not None:
            ok, state = _send(opts, opts.offsite, result.info)
    if opts.textfile is not None:
        try:
            write_textfile(opts.textfile, state, offsite=opts.offsite is not None)
        except OSError as err:
            log(f"cannot write metrics textfile {opts.textfile}: {err.strerror}")
    return ok, state


def _send(opts: ServeOptions, offsite: Offsite, info: BackupInfo) -> tuple[bool, BackupState]:
    """The off-host copy of a complete local backup; its failure leaves the local backup as it is."""
    try:
        sent = send(info, offsite, log=log)
    except BackupError as err:
        log(f"off-host copy failed (the local backup {info.name} is complete and kept): {err}")
        return False, record_offsite(opts.backup_dir, finished=None)
    log(f"off-host copy of {info.name}: snapshot {sent.snapshot} in {sent.duration:.2f}s, {sent.removed} old removed")
    return True, record_offsite(opts.backup_dir, finished=time.time(), duration=sent.duration)


def serve(opts: ServeOptions) -> int:
    status = _Status(load_state(opts.backup_dir), opts.interval_s)
    server = ThreadingHTTPServer((opts.host, opts.port), _handler(status, opts.offsite is not None))
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log(f"signal {signum}: stopping")
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    thread = threading.Thread(target=server.serve_forever, name="metrics", daemon=True)
    thread.start()
    log(f"serving metrics on http://{opts.host}:{server.server_address[1]}/metrics")
    runs = 0
    try:
        while not stop.is_set():
            # Back up at start only when the newest backup is older than one interval, so a
            # restarting container does not pile up backups.
            due = status.state.last_success + opts.interval_s - time.time()
            if due > 0 and runs == 0:
                log(f"newest backup is recent; next in {due:.0f}s")
                if stop.wait(due):
                    break
            _ok, state = run_once(opts)
            runs += 1
            with status.lock:
                status.state = state
                status.beat = time.monotonic()
            if opts.max_runs is not None and runs >= opts.max_runs:
                break
            stop.wait(opts.interval_s)
    finally:
        server.shutdown()
        server.server_close()
    return 0
