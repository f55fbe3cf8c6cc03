#!/usr/bin/env bash
# `make test`: installs what the tests need, then runs every group (lint, import layers, types, each
# test suite) even when an earlier one fails, prints each group's result at the end and exits
# non-zero if any group failed (scripts/lib/groups.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin:/sbin"
# shellcheck source=scripts/lib/groups.sh
. scripts/lib/groups.sh

scripts/bootstrap.sh dev || exit 1
py=.venv/bin/python

# The Docker target's plan on a real Docker engine with Debian stand-in images (docs/engine-test.md).
# Worktrees on one machine share one engine: one engine suite at a time.
engine_suite() {
  exec 9>"${TMPDIR:-/tmp}/friday-engine.lock"
  flock -w 1800 9 || { echo "error: another engine suite held the engine lock for 30 minutes" >&2; return 1; }
  engine_pid=$(scripts/engine.sh start) || return 1
  FRIDAY_ENGINE_RUN=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
  export FRIDAY_ENGINE_RUN
  # Whatever happens, remove this run's containers, networks and volumes, and stop only the dockerd
  # this script started.
  trap finish_engine EXIT
  "$py" -m tests.support.engine.images >/dev/null || return 1
  "$py" -m pytest -q tests/engine "$@"
}
finish_engine() {
  "$py" -m tests.support.engine.cleanup "$FRIDAY_ENGINE_RUN" || true
  scripts/engine.sh stop "$engine_pid"
}

group "ruff check" "$py" -m ruff check .
group "ruff format" "$py" -m ruff format --check .
group "import layers (lint-imports; contracts in pyproject.toml)" .venv/bin/lint-imports
group "mypy" "$py" -m mypy infra tests __main__.py
group "pytest (everything but the Pulumi programs, the host suite and the engine suite)" "$py" -m pytest -q --ignore=tests/pulumi --ignore=tests/infra --ignore=tests/engine "$@"
# The Pulumi mocks keep process-wide state: give the program tests their own process.
group "pytest tests/pulumi (Pulumi program under mocks)" "$py" -m pytest -q tests/pulumi "$@"
# testinfra's options and a live local install: the host suite gets its own process too.
group "pytest tests/infra (host checks, bare-metal mode, local install under a temp root)" "$py" -m tests.support.local_host -q "$@"
group "pytest tests/engine (the dev stack and the proxy variant on a real Docker engine)" engine_suite "$@"
summary
