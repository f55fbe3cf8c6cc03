#!/usr/bin/env bash
# Prepare a release: scripts/release.sh VERSION   (for example 0.2.0; the tag is vVERSION)
#
# Refuses a VERSION that is not semver (MAJOR.MINOR.PATCH[-PRERELEASE]), not above the current
# version (infra/__init__.py), already tagged, or a dirty working tree. Then it bumps the version
# (infra/__init__.py, pyproject.toml), moves CHANGELOG.md's Unreleased section under the new version
# with today's date (UTC), regenerates the generated files, runs the tests, commits and creates an
# annotated tag. It pushes nothing: it prints the push command.
#
# Environment (the script's own tests use these; a release should not):
#   RELEASE_GENERATE_CMD  regenerates generated files  (default: make generate)
#   RELEASE_TEST_CMD      runs the test suite           (default: make test)
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
generate_cmd=${RELEASE_GENERATE_CMD:-make generate}
test_cmd=${RELEASE_TEST_CMD:-make test}

die() { echo "release: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: scripts/release.sh VERSION   (for example 0.2.0)"
version=$1
tag="v$version"

# semver.org's grammar without build metadata (a tag carries no '+').
semver='^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-((0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)(\.(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*))*))?$'
[[ $version =~ $semver ]] || die "'$version' is not a semantic version such as 1.2.3 or 1.2.3-rc.1"

[ -z "$(git status --porcelain)" ] || die "the working tree has uncommitted changes; commit or stash them first"
! git rev-parse -q --verify "refs/tags/$tag" >/dev/null || die "tag $tag already exists"

current=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' infra/__init__.py)
[ -n "$current" ] || die "no __version__ in infra/__init__.py"
"$python" - "$version" "$current" <<'PY' || die "$version is not above the current version $current"
import sys

def key(v: str) -> tuple:
    core, _, pre = v.partition("-")
    nums = tuple(int(x) for x in core.split("."))
    if not pre:
        return (nums, 1, ())
    # Numeric identifiers sort below alphanumeric ones, and numerically among themselves.
    ids = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (nums, 0, ids)

sys.exit(0 if key(sys.argv[1]) > key(sys.argv[2]) else 1)
PY
grep -q '^## \[Unreleased\]$' CHANGELOG.md || die "CHANGELOG.md has no '## [Unreleased]' heading"

# From here on files change: put them back if any later step fails. The tree was clean (checked
# above), so resetting to the starting commit undoes this run's edits and its commit (if the tag
# step failed after it), and every untracked file now is one this run made (ignored files such as
# .venv are left alone).
start=$(git rev-parse HEAD)
restore() { git reset -q --hard "$start" ; git clean -fdq ; echo "release: failed; the working tree is restored, nothing was committed" >&2; }
trap restore ERR

today=$(date -u +%F)
sed -i "s/^__version__ = \".*\"$/__version__ = \"$version\"/" infra/__init__.py
if [ -f pyproject.toml ]; then
  sed -i "0,/^version = \".*\"$/s//version = \"$version\"/" pyproject.toml
fi
"$python" - "$version" "$today" <<'PY'
import sys
from pathlib import Path

version, today = sys.argv[1:]
path = Path("CHANGELOG.md")
text = path.read_text(encoding="utf-8")
heading = "## [Unreleased]\n"
# The entries under Unreleased now belong to the version; Unreleased starts empty again.
path.write_text(text.replace(heading, f"{heading}\n## [{version}] - {today}\n", 1), encoding="utf-8")
PY

echo "release: regenerating ($generate_cmd)"
bash -c "$generate_cmd"
echo "release: testing ($test_cmd)"
bash -c "$test_cmd"

git add -A
git commit -q -m "Release $tag"
notes=$("$python" - "$version" <<'PY'
import re
import sys
from pathlib import Path

text = Path("CHANGELOG.md").read_text(encoding="utf-8")
match = re.search(rf"^## \[{re.escape(sys.argv[1])}\].*?\n(.*?)(?=^## |\Z)", text, re.S | re.M)
print((match.group(1).strip() if match else "") or "No changes listed.")
PY
)
git tag -a "$tag" -m "Release $tag" -m "$notes"
trap - ERR

echo "release: committed and tagged $tag ($current -> $version)"
echo "release: publish it with: git push origin HEAD $tag"
