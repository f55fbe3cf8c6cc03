#!/usr/bin/env bash
# The pinned Prometheus Operator CRDs (infra/crds.py: version and sha256 of every file) into the cache
# outside the clone (~/.cache/friday-infra/crds/<version>/, or FRIDAY_CRD_CACHE). The tests read their
# CRD schemas from there; the Pulumi program applies them from there in install mode.
# Source: FRIDAY_CRD_SOURCE (a local folder) if set, else ../shared/crds beside the clone if it is
# there (an offline copy), else a download from the operator's repository. Every file is checked
# against its pinned sha256 before it is cached; the script says which source it used.
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
[ -x "$py" ] || py=python3
source_dir=${FRIDAY_CRD_SOURCE:-}
if [ -z "$source_dir" ] && [ -d ../shared/crds ]; then
  source_dir=../shared/crds
fi
if [ -n "$source_dir" ]; then
  exec "$py" -m infra.crds --source "$source_dir" "$@"
fi
exec "$py" -m infra.crds "$@"
