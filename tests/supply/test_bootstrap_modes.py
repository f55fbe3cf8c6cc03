"""scripts/bootstrap.sh installs what each entry point uses and no more (issue 22, item 7): `make lint`
reads code only, so it gets the dev venv without checkov's venv or the Debian tools the tests run.

The script runs for real in a copy of the repository's files, with a stand-in Python (PYTHON) and
stand-in apt-get/sudo that only log what they are asked: the test is about which installs each mode
asks for, not about pip or apt themselves.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from testbed.paths import REPO_ROOT

LOGGER = '#!/bin/sh\necho "$(basename "$(dirname "$(dirname "$0")")")/$(basename "$0") $*" >> {log}\n'
FAKE_PYTHON = LOGGER + '[ "$1 $2" = "-m venv" ] && mkdir -p "$3/bin" && cp "$0" "$3/bin/python"\nexit 0\n'
FAKE_APT = LOGGER + "exit 0\n"
FAKE_SUDO = '#!/bin/sh\nexec "$@"\n'
# What bootstrap.sh itself needs on PATH (everything else it looks for must look missing).
TOOLS = ("bash", "dirname", "basename", "id", "sort", "touch", "mkdir", "cp", "true")


def run_bootstrap(tmp_path: Path, mode: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "scripts" / "bootstrap.sh", repo / "scripts")
    for lock in ("requirements.txt", "requirements-dev.txt", "requirements-checkov.txt"):
        (repo / lock).write_text("# stand-in\n")
    log = tmp_path / "log"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in TOOLS:
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    for name, body in (("python3", FAKE_PYTHON), ("apt-get", FAKE_APT), ("sudo", FAKE_SUDO)):
        (bin_dir / name).write_text(body.replace("{log}", str(log)))
        (bin_dir / name).chmod(0o755)
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path), "PYTHON": str(bin_dir / "python3")}
    done = subprocess.run(
        ["bash", str(repo / "scripts" / "bootstrap.sh"), mode],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done, log.read_text().splitlines() if log.exists() else []


# mode -> (requirements installed into .venv, checkov's venv, Debian tools)
MODES = {
    "runtime": ("requirements.txt", False, False),
    "lint": ("requirements-dev.txt", False, False),
    "dev": ("requirements-dev.txt", True, True),
}


@pytest.mark.parametrize("mode", MODES)
def test_each_mode_installs_what_it_is_for_and_no_more(mode: str, tmp_path: Path) -> None:
    requirements, checkov, debian = MODES[mode]
    done, calls = run_bootstrap(tmp_path, mode)
    assert done.returncode == 0, done.stderr
    pip = [c for c in calls if " -m pip install " in c]
    assert [c.split()[0] for c in pip if c.endswith(f"-r {requirements}")] == [".venv/python"]
    assert any(c.startswith(".venv-checkov/") for c in pip) == checkov, calls
    assert (tmp_path / "repo" / ".venv-checkov").exists() == checkov
    assert any("/apt-get install " in c for c in calls) == debian, calls


def test_an_unknown_mode_is_refused_naming_the_modes(tmp_path: Path) -> None:
    done, calls = run_bootstrap(tmp_path, "everything")
    assert done.returncode == 2 and "usage: " in done.stderr and "runtime|lint|dev" in done.stderr
    assert calls == []


def test_make_lint_bootstraps_the_lint_mode_and_that_mode_has_every_tool_it_runs() -> None:
    commands = subprocess.run(
        ["make", "--no-print-directory", "-n", "lint"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.splitlines()
    assert commands[0] == "scripts/bootstrap.sh lint"
    pinned = {
        m.group(1).lower()
        for m in re.finditer(r"^([A-Za-z0-9_.-]+)==", (REPO_ROOT / "requirements-dev.in").read_text(), re.M)
    }
    # The module or console script each later command runs, and the package that provides it.
    provides = {"ruff": "ruff", "mypy": "mypy", "lint-imports": "import-linter"}
    used = set()
    for command in commands[1:]:
        match = re.match(r"^\.venv/bin/(?:python -m (\S+)|(\S+))", command)
        assert match, f"`make lint` runs {command!r}, which is not from the dev venv"
        used.add(match.group(1) or match.group(2))
    assert used == set(provides), used
    assert {provides[tool] for tool in used} <= pinned
    assert os.access(REPO_ROOT / "scripts" / "bootstrap.sh", os.X_OK)
