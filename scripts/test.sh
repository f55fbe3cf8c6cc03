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
# The pinned Prometheus Operator CRDs into the cache outside the clone (sha256 checked; the Kubernetes
# tests read their schemas there). Offline: FRIDAY_CRD_SOURCE or ../shared/crds as the source.
scripts/crds.sh || exit 1
py=.venv/bin/python

# The real gateway (scripts/build-gateway.sh; cached outside the clone, warm: no time) builds in the
# background while lint and types run; the first pytest group waits for it (docs/real-gateway.md).
gateway_log=$(mktemp)
scripts/build-gateway.sh >"$gateway_log" 2>&1 &
gateway_pid=$!
gateway_build() {
  local rc=0
  wait "$gateway_pid" || rc=$?
  cat "$gateway_log"
  rm -f "$gateway_log"
  case $rc in
    0) return 0 ;;
    2 | 3) # no source or no toolchain: the tests that need the gateway say so; CI must have it
      if [ "${CI:-}" = true ]; then
        echo "CI=true: the real gateway is required (see the line above)"
        return 1
      fi
      echo "the tests that need the real gateway will be skipped, each naming this reason"
      return 0
      ;;
    *) return "$rc" ;;
  esac
}

# The engine suite mostly waits on the engine and its containers: it runs beside the other groups from
# here on (its own build of the gateway waits for the one above), on ports of its own (below the
# kernel's ephemeral range, testbed/processes.py), its output printed in its group at the end.
engine_log=$(mktemp)
FRIDAY_PORT_RANGE=20000-24999 scripts/engine-suite.sh "$@" >"$engine_log" 2>&1 &
engine_pid=$!
engine_suite() {
  local rc=0
  wait "$engine_pid" || rc=$?
  cat "$engine_log"
  rm -f "$engine_log"
  return "$rc"
}

group "ruff check" "$py" -m ruff check .
group "ruff format" "$py" -m ruff format --check .
group "import layers (lint-imports; contracts in pyproject.toml)" .venv/bin/lint-imports
group "mypy" "$py" -m mypy infra tests testbed bench __main__.py
group "real gateway build (scripts/build-gateway.sh)" gateway_build
# Two workers (pytest-xdist; each on ports of its own, tests/conftest.py): most tests wait on processes.
group "pytest (everything but the Pulumi programs, the host suite and the engine suite)" "$py" -m pytest -q -n 2 --ignore=tests/pulumi --ignore=tests/infra --ignore=tests/engine "$@"
# The Pulumi mocks keep process-wide state: give the program tests their own process.
group "pytest tests/pulumi (Pulumi program under mocks)" "$py" -m pytest -q tests/pulumi "$@"
# testinfra's options and a live local install: the host suite gets its own process too.
group "pytest tests/infra (host checks, bare-metal mode, local install under a temp root)" "$py" -m tests.support.local_host -q "$@"
# The Docker target's plan on a real Docker engine with Debian stand-in images (docs/engine-test.md).
group "pytest tests/engine (the dev stack and the proxy variant on a real Docker engine)" engine_suite
summary
