#!/usr/bin/env bash
# Builds the real SecureYeoman gateway (0.1.0) from its source, for the tests that run it
# (docs/real-gateway.md). Usage:
#   scripts/build-gateway.sh [SOURCE]
# SOURCE: a source archive (.tar.gz, as `git archive` writes it), a folder holding exactly one such
# archive, or a source tree (a checkout of the gateway's repository). Default: $FRIDAY_GATEWAY_SOURCE,
# else ../shared/upstream/ beside the clone where it exists.
#
# The build is cached outside the clone, in $FRIDAY_CACHE_DIR/gateway/<key>
# (default ${XDG_CACHE_HOME:-~/.cache}/friday-infra), keyed by a hash of its inputs: the source, this
# script, the Node version and the pins below. A warm run finds it and builds nothing.
# Prints progress on stderr and, on stdout, the folder of the build: `app/` (the gateway with its
# production dependencies; start it with `node app/packages/core/dist/cli.js`), `node` (the Node
# binary that built it, so its native SQLite module matches) and `BUILD_INFO`.
# Exit codes: 0 built or cached; 2 no source; 3 a missing toolchain (one line says which); 1 the build failed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)

# The commit as locked does not start: @fastify/websocket 10 refuses fastify 5.7
# ("expected '^4.16.0' fastify version"). The gateway's next commit (e69c3160) locks 11.2.0;
# nothing else needs changing for 0.1.0 to start.
PINS=("@fastify/websocket@11.2.0")
# shellcheck source=scripts/gateway-pin.env
. "$here/gateway-pin.env"
NODE_MAJOR_MIN=20
NPM_TIMEOUT_S=${FRIDAY_GATEWAY_NPM_TIMEOUT_S:-1200}

log() { printf '[gateway build] %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$1" >&2; exit "${2:-1}"; }

source_arg=${1:-${FRIDAY_GATEWAY_SOURCE:-}}
if [ -z "$source_arg" ]; then
  [ -d "$repo/../shared/upstream" ] ||
    die "no gateway source: pass a source archive or checkout as argument or FRIDAY_GATEWAY_SOURCE (see docs/real-gateway.md)" 2
  source_arg="$repo/../shared/upstream"
fi
[ -e "$source_arg" ] || die "gateway source $source_arg does not exist" 2
source_path=$(cd "$(dirname "$source_arg")" && pwd)/$(basename "$source_arg")
if [ -d "$source_path" ] && [ ! -f "$source_path/package.json" ]; then
  mapfile -t archives < <(find "$source_path" -maxdepth 1 -name '*.tar.gz' | sort)
  [ ${#archives[@]} -eq 1 ] ||
    die "gateway source folder $source_path holds ${#archives[@]} .tar.gz archives, expected exactly one" 2
  source_path=${archives[0]}
fi

# Toolchain: Node >= 20 with npm, and what compiles better-sqlite3 (make, a C++ compiler, python3).
missing=()
for tool in node npm make c++ python3 tar sha256sum flock; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
[ ${#missing[@]} -eq 0 ] ||
  die "gateway build needs ${missing[*]} on PATH (Node ${NODE_MAJOR_MIN}+ with npm, make, a C++ compiler, python3)" 3
node_version=$(node -p 'process.versions.node')
[ "${node_version%%.*}" -ge "$NODE_MAJOR_MIN" ] ||
  die "gateway build needs Node ${NODE_MAJOR_MIN} or newer (the gateway's engines field); node on PATH is $node_version" 3

if [ -f "$source_path" ]; then
  source_hash=$(sha256sum "$source_path" | cut -d' ' -f1)
else
  # A tree: hash every file but dependencies, build output and VCS data, in a fixed order.
  source_hash=$(cd "$source_path" && find . \( -name node_modules -o -name .git -o -name dist \) -prune -o -type f -print0 |
    LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
fi
if [ -f "$source_path" ] && [ "$source_hash" != "$GATEWAY_ARCHIVE_SHA256" ]; then
  log "note: $source_path is not the pinned archive of $GATEWAY_REPOSITORY@$GATEWAY_COMMIT (sha256 differs); building it anyway"
fi
key=$(printf '%s\n' "$source_hash" "$(sha256sum "$0" | cut -d' ' -f1)" "node $node_version" "${PINS[@]}" |
  sha256sum | cut -c1-16)
cache=${FRIDAY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/friday-infra}/gateway
out=$cache/$key
mkdir -p "$cache"
exec 8>"$cache/.lock"
flock -w 1800 8 || die "another gateway build held $cache/.lock for 30 minutes"

# A build killed half-way leaves its work folder; under the lock nobody else is using one.
find "$cache" -mindepth 1 -maxdepth 1 -type d -name '.build-*' -exec rm -rf {} +
if [ -f "$out/BUILD_INFO" ]; then
  touch "$out/BUILD_INFO"  # last used: builds unused for 14 days are removed after a new build
  log "cached: $out ($(sed -n 's/^built_in_s=//p' "$out/BUILD_INFO") s when built; key $key)"
  echo "$out"
  exit 0
fi

started=$(date +%s)
work=$(mktemp -d "$cache/.build-XXXXXX")
trap 'rm -rf "$work"' EXIT
log "building $key from $source_path with node $node_version (cold: about 3 to 5 minutes)"
if [ -f "$source_path" ]; then
  mkdir "$work/app"
  tar -xzf "$source_path" -C "$work/app" --strip-components=1
else
  mkdir "$work/app"
  (cd "$source_path" && tar --exclude=./node_modules --exclude='./packages/*/node_modules' --exclude=./.git \
    --exclude='./packages/*/dist' -cf - .) | tar -xf - -C "$work/app"
fi
cd "$work/app"
[ -f packages/core/package.json ] && [ -f packages/shared/package.json ] ||
  die "$source_path is not the gateway's source (no packages/core and packages/shared)" 2

step() { # step NAME LOGFILE CMD...: run one step, its output to a log, the log's tail on failure
  local name=$1 logfile=$2 t0; shift 2; t0=$(date +%s)
  if ! "$@" >"$logfile" 2>&1; then
    tail -n 30 "$logfile" >&2
    die "gateway build: $name failed (full log above was $logfile)"
  fi
  log "$name: $(($(date +%s) - t0)) s"
}
npm_flags=(--no-audit --no-fund --loglevel=error)
# Installs the locked dependencies plus the pins (which rewrite only their own lock entries) and
# compiles better-sqlite3 from source (its prebuilt download is not reachable here).
step "npm install (locked, with ${PINS[*]})" "$work/npm-install.log" \
  timeout "$NPM_TIMEOUT_S" npm install "${npm_flags[@]}" --save-exact --workspace @friday/core "${PINS[@]}"
[ -f node_modules/better-sqlite3/build/Release/better_sqlite3.node ] ||
  step "compile better-sqlite3" "$work/npm-rebuild.log" timeout "$NPM_TIMEOUT_S" npm rebuild better-sqlite3
# tsc reports type errors in two integration adapters (github, slack) but emits JavaScript for every
# file: the build counts as done when the entry point and the config loader exist.
npm run build --workspace @friday/shared >"$work/tsc-shared.log" 2>&1 || true
npm run build --workspace @friday/core >"$work/tsc-core.log" 2>&1 || true
for emitted in packages/shared/dist/index.js packages/core/dist/cli.js packages/core/dist/config/loader.js; do
  [ -f "$emitted" ] || { tail -n 30 "$work"/tsc-*.log >&2; die "gateway build: tsc emitted no $emitted"; }
done
log "tsc (shared, core): done ($(grep -c 'error TS' "$work/tsc-core.log" || true) type errors reported in core, emitted anyway)"
step "npm prune --omit=dev" "$work/npm-prune.log" timeout "$NPM_TIMEOUT_S" npm prune "${npm_flags[@]}" --omit=dev
rm -rf packages/dashboard/node_modules
# The Node binary that built the native module runs it (same ABI), in the image too.
cp "$(readlink -f "$(command -v node)")" "$work/node"
version=$("$work/node" packages/core/dist/cli.js --version 2>&1) || die "the built gateway does not run: $version"
cd "$cache"
elapsed=$(($(date +%s) - started))
{
  echo "source=$source_path"
  echo "source_sha256=$source_hash"
  echo "node=$node_version"
  echo "pins=${PINS[*]}"
  echo "version=$version"
  echo "built_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "built_in_s=$elapsed"
} >"$work/BUILD_INFO"
rm -f "$work"/*.log
rm -rf "$out"
mv "$work" "$out"
trap - EXIT
chmod 755 "$out"
# Builds of other inputs may still be in use (another clone, a running gateway): only those unused
# for 14 days go.
find "$cache" -mindepth 2 -maxdepth 2 -name BUILD_INFO -mtime +14 -printf '%h\0' | xargs -0 -r rm -rf
log "built $version in $elapsed s: $out ($(du -sh "$out" | cut -f1))"
echo "$out"
