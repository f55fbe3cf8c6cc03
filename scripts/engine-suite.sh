#!/usr/bin/env bash
# The engine suite (tests/engine; docs/engine-test.md): the Docker target's plan on a real Docker
# engine with the real gateway's image and Debian stand-in images for the rest. `make test` runs it
# beside the other suites (on ports of its own: FRIDAY_PORT_RANGE); it needs root (or an engine that
# already answers) and a venv with requirements-dev.txt (scripts/bootstrap.sh dev). Extra arguments go to pytest.
set -uo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python

# The real gateway first (cached by its inputs: a warm run takes well under a second); its image is
# built from this folder below. Without a source or a toolchain every engine test is skipped with the
# reason, and under CI=true the run fails here.
gateway_build=$(scripts/build-gateway.sh)
gateway_rc=$?
case $gateway_rc in
  0) ;;
  2 | 3)
    if [ "${CI:-}" = "true" ]; then
      echo "error: the engine suite runs the real gateway and it cannot be built here (the line above says why); CI=true requires it" >&2
      exit 1
    fi
    echo "warning: no real gateway here (the line above says why): every engine test is skipped (docs/real-gateway.md)" >&2
    ;;
  *)
    echo "error: scripts/build-gateway.sh failed (exit $gateway_rc)" >&2
    exit 1
    ;;
esac

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
if [ "$gateway_rc" -eq 0 ]; then
  "$py" -m tests.support.engine.images "$gateway_build" >/dev/null || exit 1
  export FRIDAY_GATEWAY_BUILD=$gateway_build
fi
"$py" -m pytest -q -rs tests/engine "$@"
