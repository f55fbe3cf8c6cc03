"""Remove what engine-suite runs left on the engine.

`python -m tests.support.engine.cleanup RUN_ID`: one run (the exit trap of scripts/engine-suite.sh).
`python -m tests.support.engine.cleanup --stale`: every run, before a new one starts. Only safe
under the engine lock scripts/engine-suite.sh holds (no other run is going on): what is left then
belongs to a run that died without its trap (killed, machine stopped).
"""

from __future__ import annotations

import os
import sys

import docker

from tests.support.engine.provider import cleanup, stale_runs

# Set by scripts/engine-suite.sh once it holds the engine lock.
LOCK_HELD = "FRIDAY_ENGINE_LOCK_HELD"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.support.engine.cleanup RUN_ID | --stale", file=sys.stderr)
        return 2
    if argv[0] == "--stale" and os.environ.get(LOCK_HELD) != "1":
        print(f"--stale removes every run's containers: only under the engine lock ({LOCK_HELD}=1)", file=sys.stderr)
        return 2
    client = docker.from_env(timeout=60)
    runs = sorted(stale_runs(client)) if argv[0] == "--stale" else [argv[0]]
    removed = [item for run in runs for item in cleanup(client, run)]
    for item in removed:
        print(f"removed {item}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
