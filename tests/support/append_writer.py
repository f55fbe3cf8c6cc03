"""A log writer that behaves like the gateway under systemd's `StandardOutput=append:`.

Its stdout is a file the parent opened once in append mode (as systemd does); it never
reopens it. It writes numbered pino-style JSON lines, one `write(2)` each, at a fixed rate,
so a reader can count exactly which lines survived a rotation.

    python -m tests.support.append_writer --count 5000 --rate 1000 >> gateway.log
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime

# Pads every line to a realistic request-log size (the real gateway's lines are ~250 bytes).
PAD = "x" * 120


def line(seq: int) -> bytes:
    record = {
        "level": "info",
        "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "pid": os.getpid(),
        "hostname": "test",
        "name": "secureyeoman",
        "component": "Gateway",
        "seq": seq,
        "msg": "Request completed",
        "pad": PAD,
    }
    return (json.dumps(record, separators=(",", ":")) + "\n").encode()


def run(count: int, rate: float, max_seconds: float) -> int:
    """Write `count` lines at `rate` lines/s to fd 1; stop early after max_seconds. Returns lines written."""
    start = time.monotonic()
    interval = 1.0 / rate
    written = 0
    for seq in range(count):
        due = start + seq * interval
        now = time.monotonic()
        if now - start > max_seconds:
            break
        if due > now:
            time.sleep(due - now)
        data = line(seq)
        # One write per line: with O_APPEND the kernel places it whole at the current end.
        if os.write(1, data) != len(data):
            raise OSError("short write")
        written += 1
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True, help="lines per second")
    parser.add_argument("--max-seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    written = run(args.count, args.rate, args.max_seconds)
    print(f"written {written}", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
