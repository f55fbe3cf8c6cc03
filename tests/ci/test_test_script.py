"""`make test` (scripts/test.sh) runs every group even after a failure, prints each group's result
and exits non-zero when any group failed."""

from __future__ import annotations

import re
import subprocess

from testbed.paths import REPO_ROOT

SCRIPT = REPO_ROOT / "scripts" / "test.sh"
LIB = REPO_ROOT / "scripts" / "lib" / "groups.sh"


def run_groups(body: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", f". {LIB}\n{body}"], capture_output=True, text=True, timeout=30, check=False)


def test_a_failing_group_does_not_stop_the_others_and_fails_the_run() -> None:
    done = run_groups("group first false\ngroup second true\ngroup third sh -c 'exit 3'\nsummary")
    assert done.returncode == 1
    assert [line for line in done.stdout.splitlines() if line.startswith("== ")] == [
        "== first",
        "== second",
        "== third",
        "== results",
    ]
    assert done.stdout.splitlines()[-3:] == ["FAIL  first (exit 1)", "PASS  second", "FAIL  third (exit 3)"]


def test_all_green_exits_zero() -> None:
    done = run_groups("group a true\ngroup b true\nsummary")
    assert done.returncode == 0 and done.stdout.splitlines()[-2:] == ["PASS  a", "PASS  b"]


def test_the_script_runs_every_check_as_a_group_and_ends_with_the_summary() -> None:
    text = SCRIPT.read_text()
    # Top-level lines (a helper function's body is indented and runs inside its group).
    lines = [line for line in text.splitlines() if line.strip() and not line[0].isspace() and line[0] not in "#}"]
    assert not re.search(r"^set -\w*e", text, re.M)
    # Every command that runs a check goes through `group`, and the summary decides the exit code.
    assert [line for line in lines if '"$py"' in line and not line.startswith("group ")] == []
    assert len([line for line in lines if line.startswith("group ")]) >= 7
    assert [line for line in lines if "lint-imports" in line and not line.startswith("group ")] == []
    assert lines[-1] == "summary"
