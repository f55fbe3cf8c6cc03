"""Hostile files and values fail fast: a clean one-line refusal within a time bound, never a hang,
a traceback or gigabytes (issue 22, item 4). Each document is small on disk; without the bounds in
infra/settings/bounded.py the alias tables run for minutes, the deep ones end in a RecursionError
and the pipe blocks forever.

`check` runs as a process under a timeout, so a hang fails the test instead of stopping the run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from infra.preflight import EngineConfig, preflight
from infra.settings import SettingsError, bounded
from testbed.paths import REPO_ROOT
from tests.support.hostile_files import BOUND_SECONDS, HOSTILE, Hostile


def project(tmp_path: Path, case: Hostile) -> Path:
    shutil.copy(REPO_ROOT / "Pulumi.yaml", tmp_path)
    target = tmp_path / ("Pulumi.yaml" if case.project else "Pulumi.x.yaml")
    target.write_text(case.text, encoding="utf-8")
    if case.project:
        (tmp_path / "Pulumi.x.yaml").write_text("config:\n  friday:target: docker\n", encoding="utf-8")
    return tmp_path


def run_cli(root: Path, *argv: str) -> tuple[int, str, float]:
    """`python -m infra --root ROOT ...` as a process: (exit code, stderr, seconds). A hang fails the test."""
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "infra", "--root", str(root), *argv],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=BOUND_SECONDS * 2,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"`{' '.join(argv)}` still running after {BOUND_SECONDS * 2}s: a hang, not a refusal")
    return done.returncode, done.stderr, time.monotonic() - started


def assert_one_line_refusal(code: int, err: str, seconds: float, expected: str) -> None:
    assert "Traceback" not in err and "RecursionError" not in err, err[-2000:]
    assert code == 2, err[-2000:]
    assert seconds < BOUND_SECONDS, f"refused only after {seconds:.1f}s"
    refusals = [line for line in err.splitlines() if line.startswith("  - ")]
    assert len(refusals) == 1 and expected in refusals[0], err[-2000:]
    assert len(refusals[0]) < 400, "the refusal must be one short line, not the document"


# render reads the stack file only; Pulumi.yaml goes through `check` (and `pulumi up`'s preflight).
RUNS = [(case, command) for case in HOSTILE for command in ("check",) + (() if case.project else ("render",))]


@pytest.mark.parametrize(("case", "command"), RUNS, ids=[f"{c.name}-{command}" for c, command in RUNS])
def test_a_hostile_document_is_refused_fast_in_one_line(case: Hostile, command: str, tmp_path: Path) -> None:
    root = project(tmp_path, case)
    extra = ["--out", str(tmp_path / "out")] if command == "render" else []
    code, err, seconds = run_cli(root, command, "--stack", "x", *extra)
    assert_one_line_refusal(code, err, seconds, case.expected)
    assert not (tmp_path / "out").exists()


# Files that are not files: reading them must not block or fill memory.
SPECIAL: list[tuple[str, Callable[[Path], None], str]] = [
    ("a named pipe", os.mkfifo, "is not a regular file"),
    ("endless zeros", lambda p: p.symlink_to("/dev/zero"), "is not a regular file"),
    ("a character device", lambda p: p.symlink_to("/dev/null"), "is not a regular file"),
]


@pytest.mark.parametrize(("name", "make", "expected"), SPECIAL, ids=[s[0] for s in SPECIAL])
def test_a_stack_file_that_is_not_a_file_is_refused_without_blocking(
    name: str, make: Callable[[Path], None], expected: str, tmp_path: Path
) -> None:
    shutil.copy(REPO_ROOT / "Pulumi.yaml", tmp_path)
    make(tmp_path / "Pulumi.x.yaml")
    code, err, seconds = run_cli(tmp_path, "check", "--stack", "x")
    assert_one_line_refusal(code, err, seconds, expected)


def test_the_engine_values_are_bounded_too(tmp_path: Path) -> None:
    """What the Pulumi engine hands the program (PULUMI_CONFIG, an environment variable): a value larger
    than any stack file may hold is refused in one line, under `pulumi up`'s preflight."""
    shutil.copy(REPO_ROOT / "Pulumi.yaml", tmp_path)
    (tmp_path / "Pulumi.x.yaml").write_text("config:\n  friday:target: docker\n", encoding="utf-8")
    huge = "a" * (bounded.MAX_FILE_BYTES + 1)
    started = time.monotonic()
    with pytest.raises(SettingsError) as err:
        preflight("x", tmp_path, EngineConfig({"friday:target": "docker", "friday:environment": huge}, frozenset()))
    assert time.monotonic() - started < BOUND_SECONDS
    assert err.value.problems == [
        "friday:environment: the engine passed a value of 1,000,001 characters; at most 1,000,000 are read "
        "(a stack file may not be larger)"
    ]


JSON_VALUES = [
    ("deep lists", "[" * 100_000 + "]" * 100_000, "nests deeper than 64 levels"),
    ("deep objects", '{"a":' * 50_000 + "1" + "}" * 50_000, "nests deeper than 64 levels"),
    ("oversize", '["' + "a" * 1_000_001 + '"]', "is longer than 1,000,000 characters"),
]


@pytest.mark.parametrize(("name", "text", "expected"), JSON_VALUES, ids=[j[0] for j in JSON_VALUES])
def test_a_structured_engine_value_is_bounded(name: str, text: str, expected: str) -> None:
    """A list setting arrives from the engine as JSON text; json.loads recurses, so depth is checked first."""
    with pytest.raises(bounded.HostileInputError, match=expected):
        bounded.load_json(text)
    assert bounded.load_json('[["a", "]]]]"], {"b": "[["}]') == [["a", "]]]]"], {"b": "[["}]
