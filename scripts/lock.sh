#!/usr/bin/env bash
# `make lock`: resolve requirements*.in (the versions a human chose) into requirements*.txt with
# every transitive dependency pinned and hashed; `scripts/bootstrap.sh` installs those with
# --require-hashes. The dev lock is constrained to the runtime lock, so both agree on every version.
set -euo pipefail
cd "$(dirname "$0")/.."

uv=.venv/bin/uv
[ -x "$uv" ] || scripts/bootstrap.sh dev
# Universal: one lock for every platform and Python >= 3.11 (markers where they differ).
# uv's header names the exact command: Renovate's pip-compile manager re-runs it to update a lock.
compile=("$uv" pip compile --quiet --generate-hashes --universal --python-version=3.11)
"${compile[@]}" requirements.in --output-file=requirements.txt
# requirements-dev.in constrains itself to requirements.txt (its `-c` line).
"${compile[@]}" requirements-dev.in --output-file=requirements-dev.txt
# checkov lives in its own venv (its pins clash with pytest's): a lock of its own, unconstrained.
"${compile[@]}" requirements-checkov.in --output-file=requirements-checkov.txt
echo "locked: requirements.txt ($(grep -c '==' requirements.txt) packages), requirements-dev.txt ($(grep -c '==' requirements-dev.txt) packages), requirements-checkov.txt ($(grep -c '==' requirements-checkov.txt) packages)"
