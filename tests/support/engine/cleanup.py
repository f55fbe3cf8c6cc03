"""`python -m tests.support.engine.cleanup RUN_ID`: remove what one engine-suite run left
(the exit trap of scripts/engine-suite.sh)."""

from __future__ import annotations

import sys

import docker

from tests.support.engine.provider import cleanup


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.support.engine.cleanup RUN_ID", file=sys.stderr)
        return 2
    removed = cleanup(docker.from_env(timeout=60), argv[0])
    for item in removed:
        print(f"removed {item}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
