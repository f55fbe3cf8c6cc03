#!/usr/bin/env bash
# Install the Pulumi CLI whose version matches the Python SDK pinned in requirements.in, and
# verify the download against the SHA-256 list Pulumi publishes beside it.
#   scripts/install-pulumi.sh [PREFIX]    (default PREFIX: ~/.pulumi; the CLI lands in PREFIX/bin)
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

base=${PULUMI_DOWNLOAD_BASE:-https://get.pulumi.com/releases/sdk}
archive="pulumi-v$version-$platform.tar.gz"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "install-pulumi: downloading $archive and its checksum list"
curl -fsSL --retry 3 --max-time 300 -o "$work/$archive" "$base/$archive"
curl -fsSL --retry 3 --max-time 60 -o "$work/checksums.txt" "$base/pulumi-$version-checksums.txt"
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
