#!/usr/bin/env bash
# A Docker engine for the engine test suite (tests/engine), on this machine, as root.
#   scripts/engine.sh start   install docker.io and debootstrap when missing; start dockerd when no
#                             engine answers. Prints the pid of the dockerd it started, or nothing
#                             when one was already running (then `stop` leaves it alone).
#   scripts/engine.sh stop PID   stop that dockerd (only a pid `start` printed), bounded wait.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

SOCKET=/var/run/docker.sock
PIDFILE=/var/run/docker.pid
LOG=${FRIDAY_ENGINE_LOG:-/var/log/friday-engine-dockerd.log}
START_TIMEOUT_S=60

answers() { timeout 5 docker -H "unix://$SOCKET" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: the engine suite starts dockerd and installs docker.io; run make test as root" >&2
    echo "       (or start a Docker engine yourself: then the suite uses it and leaves it running)" >&2
    exit 1
  fi
}

install_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v docker >/dev/null || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  [ ${#missing[@]} -eq 0 ] && return 0
  need_root
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  echo "installing Debian packages: ${missing[*]}" >&2
  timeout 300 apt-get update -qq
  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# A pid file whose process is gone blocks dockerd ("process with PID ... is still running" while the
# old one exits, about 1.5 s after a kill -9): wait for that process, then drop the stale file.
wait_out_stale_pidfile() {
  [ -f "$PIDFILE" ] || return 0
  local old
  old=$(cat "$PIDFILE" 2>/dev/null || true)
  for _ in $(seq 1 100); do
    if [ -z "$old" ] || ! kill -0 "$old" 2>/dev/null; then
      rm -f "$PIDFILE"
      return 0
    fi
    # A live dockerd that owns the pid file but does not answer yet: give it the same time.
    answers && return 0
    sleep 0.1
  done
  echo "error: $PIDFILE names pid $old, which is still running but no engine answers on $SOCKET" >&2
  exit 1
}

start() {
  install_packages
  if answers; then
    return 0
  fi
  need_root
  wait_out_stale_pidfile
  if answers; then
    return 0
  fi
  setsid dockerd --host "unix://$SOCKET" --pidfile "$PIDFILE" >>"$LOG" 2>&1 </dev/null &
  local pid=$!
  for _ in $(seq 1 $((START_TIMEOUT_S * 10))); do
    if answers; then
      echo "$pid"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "error: dockerd exited while starting; last lines of $LOG:" >&2
      tail -n 20 "$LOG" >&2
      exit 1
    fi
    sleep 0.1
  done
  kill "$pid" 2>/dev/null || true
  echo "error: dockerd did not answer on $SOCKET within ${START_TIMEOUT_S}s (log: $LOG)" >&2
  exit 1
}

stop() {
  local pid=${1:-}
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid"
  # dockerd stops its containers (10 s each at most) before it exits.
  for _ in $(seq 1 600); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  echo "warning: dockerd $pid still running 60 s after SIGTERM; killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 start | stop PID" >&2; exit 2 ;;
esac
