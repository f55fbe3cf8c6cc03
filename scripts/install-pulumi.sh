#!/usr/bin/env bash
# Install the Pulumi CLI whose version matches the Python SDK pinned in requirements.in, and
# verify the download against the SHA-256 list Pulumi publishes beside it.
#   scripts/install-pulumi.sh [PREFIX]    (default PREFIX: ~/.pulumi; the CLI lands in PREFIX/bin)
#   PULUMI_DOWNLOAD_BASE=/folder scripts/install-pulumi.sh   (offline: the archive and checksum list in /folder)
# Prints the version it installed; exits non-zero (and installs nothing) when a step fails.
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=${1:-$HOME/.pulumi}
# The SDK pin of requirements.in (the lock has the same version): `pulumi==3.272.0`.
version=$(sed -n 's/^pulumi==\([0-9][0-9.]*\)[[:space:]]*$/\1/p' requirements.in | head -n1)
[ -n "$version" ] || { echo "install-pulumi: no 'pulumi==X.Y.Z' pin in requirements.in" >&2; exit 1; }

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) platform=linux-x64 ;;
  Linux-aarch64 | Linux-arm64) platform=linux-arm64 ;;
  Darwin-x86_64) platform=darwin-x64 ;;
  Darwin-arm64) platform=darwin-arm64 ;;
  *) echo "install-pulumi: no Pulumi CLI build for $(uname -s) $(uname -m); see https://www.pulumi.com/docs/install/" >&2; exit 1 ;;
esac

if [ -x "$prefix/bin/pulumi" ] && [ "$("$prefix/bin/pulumi" version 2>/dev/null)" = "v$version" ]; then
  echo "install-pulumi: Pulumi CLI v$version already in $prefix/bin"
  exit 0
fi

# PULUMI_DOWNLOAD_BASE: another server, or (offline) a folder holding the two files below, copied
# from https://get.pulumi.com/releases/sdk/ on a machine that has network access.
base=${PULUMI_DOWNLOAD_BASE:-https://get.pulumi.com/releases/sdk}
archive="pulumi-v$version-$platform.tar.gz"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# fetch NAME MAX_SECONDS: $base/NAME into $work (a local folder is copied, no curl needed).
fetch() {
  case "$base" in
    /* | file://*)
      local folder=${base#file://}
      if [ ! -f "$folder/$1" ]; then
        echo "install-pulumi: $folder has no $1 (it needs $archive and pulumi-$version-checksums.txt)" >&2
        return 1
      fi
      cp "$folder/$1" "$work/$1" ;;
    *)
      if ! command -v curl >/dev/null; then
        echo "install-pulumi: curl is not installed; give PULUMI_DOWNLOAD_BASE a local folder instead" >&2
        return 1
      fi
      curl -fsSL --retry 3 --max-time "$2" -o "$work/$1" "$base/$1" ;;
  esac
}

echo "install-pulumi: getting $archive and its checksum list from $base"
fetch "$archive" 300
fetch "pulumi-$version-checksums.txt" 60
mv "$work/pulumi-$version-checksums.txt" "$work/checksums.txt"
expected=$(awk -v f="$archive" '$2 == f || $2 == "*" f { print $1 }' "$work/checksums.txt")
[ -n "$expected" ] || { echo "install-pulumi: $archive is not in pulumi-$version-checksums.txt" >&2; exit 1; }
actual=$(sha256sum "$work/$archive" | awk '{ print $1 }')
if [ "$expected" != "$actual" ]; then
  echo "install-pulumi: checksum mismatch for $archive (expected $expected, got $actual); nothing installed" >&2
  exit 1
fi

tar -xzf "$work/$archive" -C "$work"
unpacked=$("$work/pulumi/pulumi" version)
if [ "$unpacked" != "v$version" ]; then
  echo "install-pulumi: the archive holds $unpacked, wanted v$version; nothing installed" >&2
  exit 1
fi
mkdir -p "$prefix/bin"
cp -f "$work"/pulumi/* "$prefix/bin/"
echo "install-pulumi: Pulumi CLI $unpacked (sha256 verified) in $prefix/bin"
