#!/usr/bin/env bash
# Installs what the project needs on this machine, idempotently.
#   scripts/bootstrap.sh runtime   venv + requirements.txt (for `make up` / `make render`)
#   scripts/bootstrap.sh lint      venv + requirements-dev.txt only (ruff, mypy, lint-imports: `make lint`)
#   scripts/bootstrap.sh dev       venv + requirements-dev.txt + checkov's venv + the Debian tools the tests run
# Both lock files are hash-locked (`make lock` writes them from requirements*.in).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-dev}
venv=.venv
python=${PYTHON:-python3}

need_python() {
  if ! command -v "$python" >/dev/null; then
    echo "error: $python not found; install Python 3.11 or newer" >&2
    exit 1
  fi
  "$python" - <<'PY' || { echo "error: Python 3.11 or newer is required" >&2; exit 1; }
import sys
sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY
}

install_venv() {
  local req=$1 venv=${2:-$venv}
  local stamp="$venv/.installed-$(basename "$1" .txt)"
  need_python
  [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
  # Reinstall only when a requirements file changed since the last install.
  if [ ! -f "$stamp" ] || [ "$req" -nt "$stamp" ] || [ requirements.txt -nt "$stamp" ]; then
    # The locks pin every package with its hashes (`make lock`): nothing unpinned or altered gets in.
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes -r "$req"
    touch "$stamp"
  fi
}

# command -> Debian package, for the real tools the tests run.
declare -A APT=(
  [promtool]=prometheus
  [prometheus]=prometheus
  [amtool]=prometheus-alertmanager
  [prometheus-alertmanager]=prometheus-alertmanager
  [prometheus-node-exporter]=prometheus-node-exporter
  [prometheus-blackbox-exporter]=prometheus-blackbox-exporter
  [logrotate]=logrotate
  [nginx]=nginx-light
  [caddy]=caddy
  [sqlite3]=sqlite3
  [systemd-analyze]=systemd
  [openssl]=openssl
  [restic]=restic
)

install_debian_tools() {
  local missing=()
  for cmd in "${!APT[@]}"; do
    command -v "$cmd" >/dev/null || PATH="$PATH:/usr/sbin:/sbin" command -v "$cmd" >/dev/null || missing+=("${APT[$cmd]}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
      sudo="sudo"
    else
      echo "error: missing Debian packages: ${missing[*]}" >&2
      echo "       install them with: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
      exit 1
    fi
  fi
  echo "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

case "$mode" in
  runtime) install_venv requirements.txt ;;
  # Lint reads the code only: no checkov (a test runs it) and no Debian tools (the tests run them).
  lint) install_venv requirements-dev.txt ;;
  # checkov's pins clash with pytest's: it gets its own venv (see requirements-checkov.in).
  dev) install_venv requirements-dev.txt; install_venv requirements-checkov.txt .venv-checkov; install_debian_tools ;;
  *) echo "usage: $0 runtime|lint|dev" >&2; exit 2 ;;
esac
