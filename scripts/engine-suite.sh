#!/usr/bin/env bash
# The engine suite (tests/engine; docs/engine-test.md): the Docker target's plan on a real Docker
# engine with Debian stand-in images. `make test` runs it last; it needs root (or an engine that
# already answers) and a venv with requirements-dev.txt (scripts/bootstrap.sh dev).
# Extra arguments go to pytest.
set -uo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python

# Worktrees on one machine share one engine: one engine suite at a time.
exec 9>/tmp/friday-engine.lock
flock -w 1800 9 || { echo "error: another engine suite held the engine lock for 30 minutes" >&2; exit 1; }
export FRIDAY_ENGINE_LOCK_HELD=1
engine_pid=$(scripts/engine.sh start) || exit 1
# Under the lock nothing else runs: whatever an earlier run left (killed before its trap) goes now.
"$py" -m tests.support.engine.cleanup --stale || exit 1
FRIDAY_ENGINE_RUN=${FRIDAY_ENGINE_RUN:-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')}
export FRIDAY_ENGINE_RUN
# Whatever happens, remove this run's containers, networks and volumes, and stop only the dockerd
# this script started.
finish() {
  "$py" -m tests.support.engine.cleanup "$FRIDAY_ENGINE_RUN" || true
  scripts/engine.sh stop "$engine_pid"
}
trap finish EXIT
"$py" -m tests.support.engine.images >/dev/null || exit 1
"$py" -m pytest -q tests/engine "$@"
