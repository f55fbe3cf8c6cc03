"""scripts/release.sh run for real in a temporary git repository holding this tree's files."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from testbed.paths import REPO_ROOT

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Release Test",
    "GIT_AUTHOR_EMAIL": "release@test.invalid",
    "GIT_COMMITTER_NAME": "Release Test",
    "GIT_COMMITTER_EMAIL": "release@test.invalid",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True, env={**os.environ, **GIT_ENV}, timeout=60
    )
    return out.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A fresh repository with the working tree's files (tracked and new, not ignored), one commit."""
    root = tmp_path / "repo"
    files = git(REPO_ROOT, "ls-files", "--cached", "--others", "--exclude-standard").splitlines()
    for rel in files:
        source = REPO_ROOT / rel
        if source.is_file():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / rel)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "start")
    return root


def release(repo: Path, version: str, test_cmd: str = "true") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        **GIT_ENV,
        # The real generator, without `make generate`'s venv bootstrap inside the temporary repository.
        "RELEASE_GENERATE_CMD": f"{sys.executable} -m infra generate",
        "RELEASE_TEST_CMD": test_cmd,
    }
    return subprocess.run(  # noqa: PLW1510 - the return code is the result
        ["bash", "scripts/release.sh", version], cwd=repo, capture_output=True, text=True, env=env, timeout=120
    )


def state(repo: Path) -> tuple[str, str, str]:
    return git(repo, "rev-parse", "HEAD"), git(repo, "tag", "--list"), git(repo, "status", "--porcelain")


def test_release_bumps_moves_the_changelog_commits_and_tags(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "tests-ran"
    result = release(repo, "0.2.0", test_cmd=f"grep -q '__version__ = \"0.2.0\"' infra/__init__.py && touch {marker}")
    assert result.returncode == 0, result.stderr
    assert marker.exists(), "the tests ran, on the bumped tree"
    assert '__version__ = "0.2.0"' in (repo / "infra/__init__.py").read_text()
    assert 'version = "0.2.0"' in (repo / "pyproject.toml").read_text()
    changelog = (repo / "CHANGELOG.md").read_text()
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert f"## [Unreleased]\n\n## [0.2.0] - {today}\n\n### Added\n- OpenAPI" in changelog
    assert "## [0.1.0]" in changelog
    assert git(repo, "log", "-1", "--format=%s") == "Release v0.2.0"
    assert git(repo, "cat-file", "-t", "v0.2.0") == "tag", "an annotated tag"
    assert "OpenAPI 3.1" in git(repo, "tag", "-l", "--format=%(contents)", "v0.2.0")
    assert git(repo, "rev-parse", "v0.2.0^{commit}") == git(repo, "rev-parse", "HEAD")
    assert git(repo, "status", "--porcelain") == ""
    assert "git push origin HEAD v0.2.0" in result.stdout


def test_prerelease_above_the_current_version_is_accepted(repo: Path) -> None:
    result = release(repo, "0.2.0-rc.1")
    assert result.returncode == 0, result.stderr
    assert git(repo, "tag", "--list") == "v0.2.0-rc.1"


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("1.2", "not a semantic version"),
        ("v1.2.3", "not a semantic version"),
        ("01.2.3", "not a semantic version"),
        ("1.2.3+build.5", "not a semantic version"),
        ("0.1.0", "not above the current version 0.1.0"),
        ("0.0.9", "not above the current version 0.1.0"),
        ("0.1.0-rc.1", "not above the current version 0.1.0"),
    ],
)
def test_refuses_a_bad_or_lower_version(repo: Path, version: str, message: str) -> None:
    before = state(repo)
    result = release(repo, version)
    assert result.returncode != 0
    assert message in result.stderr
    assert state(repo) == before


def test_refuses_a_dirty_tree(repo: Path) -> None:
    (repo / "README.md").write_text((repo / "README.md").read_text() + "\nlocal edit\n")
    before = state(repo)
    result = release(repo, "0.2.0")
    assert result.returncode != 0 and "uncommitted changes" in result.stderr
    assert state(repo) == before


def test_refuses_an_existing_tag(repo: Path) -> None:
    git(repo, "tag", "-a", "v0.3.0", "-m", "earlier")
    before = state(repo)
    result = release(repo, "0.3.0")
    assert result.returncode != 0 and "tag v0.3.0 already exists" in result.stderr
    assert state(repo) == before


def test_failing_tests_leave_no_commit_no_tag_and_a_clean_tree(repo: Path) -> None:
    before = state(repo)
    result = release(repo, "0.2.0", test_cmd="exit 3")
    assert result.returncode != 0
    assert "the working tree is restored" in result.stderr
    assert state(repo) == before
    assert '__version__ = "0.1.0"' in (repo / "infra/__init__.py").read_text()


def test_a_failing_tag_step_undoes_the_release_commit(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    # Someone creates the tag while the tests run: the commit is made, then `git tag -a` fails.
    result = release(repo, "0.2.0", test_cmd="git tag v0.2.0")
    assert result.returncode != 0
    assert "the working tree is restored" in result.stderr
    assert git(repo, "rev-parse", "HEAD") == head, "the release commit was left behind"
    assert git(repo, "status", "--porcelain") == ""


def test_failing_tests_also_remove_files_the_run_created(repo: Path) -> None:
    before = state(repo)
    result = release(repo, "0.2.0", test_cmd="mkdir -p made/by && touch made/by/the-run && exit 1")
    assert result.returncode != 0
    assert not (repo / "made").exists(), "an untracked file of the failed run was left behind"
    assert state(repo) == before


def test_the_rollback_procedure_in_the_docs_finds_the_release_it_names(repo: Path) -> None:
    """docs/deployment.md's rollback lists releases with `git tag -l 'v*'` and switches to one: both
    commands work on the tags release.sh makes, and the docs name no other kind of tag."""
    deployment = (REPO_ROOT / "docs" / "deployment.md").read_text()
    section = deployment.split("Rolling back friday-infra itself", 1)[1].split("\n## ", 1)[0]
    assert "git tag -l 'v*' --sort=-v:refname" in section
    assert release(repo, "0.2.0").returncode == 0
    assert release(repo, "0.3.0").returncode == 0
    listed = git(repo, "tag", "-l", "v*", "--sort=-v:refname").splitlines()
    assert listed == ["v0.3.0", "v0.2.0"]
    git(repo, "switch", "--detach", "v0.2.0")
    assert '__version__ = "0.2.0"' in (repo / "infra/__init__.py").read_text()
    named = set(re.findall(r"\bv\d+\.\d+\.\d+\b", section))
    assert named and all(re.fullmatch(r"v\d+\.\d+\.\d+", t) for t in named)
