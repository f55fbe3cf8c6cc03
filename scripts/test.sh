#!/usr/bin/env bash
# `make test`: installs what the tests need, then lint, type check and every test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin:/sbin"

scripts/bootstrap.sh dev
py=.venv/bin/python

echo "== ruff"
"$py" -m ruff check .
"$py" -m ruff format --check .
echo "== import layers (lint-imports; contracts in pyproject.toml)"
.venv/bin/lint-imports
echo "== mypy"
"$py" -m mypy infra tests bench __main__.py
echo "== pytest (everything but the Pulumi programs)"
"$py" -m pytest -q --ignore=tests/pulumi --ignore=tests/infra --ignore=tests/engine "$@"
# The Pulumi mocks keep process-wide state: give the program tests their own process.
echo "== pytest (Pulumi program under mocks)"
"$py" -m pytest -q tests/pulumi "$@"
# testinfra's options and a live local install: the host suite gets its own process too.
echo "== pytest tests/infra (host checks, bare-metal mode, against a local install under a temp root)"
"$py" -m tests.support.local_host -q "$@"
# The Docker target's plan on a real Docker engine with Debian stand-in images (docs/engine-test.md).
echo "== pytest tests/engine (the dev stack and the proxy variant on a real Docker engine)"
scripts/engine-suite.sh "$@"
