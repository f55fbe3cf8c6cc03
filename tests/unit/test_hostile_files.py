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
from dataclasses import dataclass
from pathlib import Path

import pytest

from infra.preflight import EngineConfig, preflight
from infra.settings import SettingsError, bounded
from tests.support.paths import REPO_ROOT

# Each refusal must come within this (a refused document takes well under a second here).
BOUND_SECONDS = 15


def laughs(namespace_key: str, levels: int = 9, width: int = 9) -> str:
    """The billion laughs: each anchor a list of `width` aliases of the one before (width^levels)."""
    lines = [f"  {namespace_key}0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels + 1):
        lines.append(f"  {namespace_key}{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return "config:\n" + "\n".join(lines) + "\n"


def merge_laughs() -> str:
    """The same growth through merge keys (<<), which only the constructor expands."""
    lines = ["  docker:m0: &m0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10}"]
    for i in range(1, 10):
        keys = ", ".join(f"k{j}: *m{i - 1}" for j in range(10))
        lines.append(f"  docker:m{i}: &m{i} {{{keys}}}")
    return "config:\n" + "\n".join(lines) + "\n"


def long_scalar_repeated() -> str:
    """200 KB on disk, 20 MB of text once a 100 KB string's alias is repeated 200 times."""
    return "config:\n  docker:s: &s " + "x" * 100_000 + "\n  docker:t: [" + ", ".join(["*s"] * 200) + "]\n"


@dataclass(frozen=True)
class Hostile:
    name: str
    text: str  # the stack file (or Pulumi.yaml when project is True)
    expected: str
    project: bool = False  # put it in Pulumi.yaml instead of the stack file


HOSTILE = [
    Hostile("billion laughs, provider namespace", laughs("docker:l"), "expands to more than 100,000 values"),
    Hostile("billion laughs, our namespace", laughs("friday:l"), "expands to more than 100,000 values"),
    Hostile("billion laughs, top level", laughs("l").replace("  l", "l").replace("config:\n", ""), "expands to more"),
    Hostile("merge-key laughs", merge_laughs(), "expands to more than 100,000 values"),
    Hostile("one long scalar repeated", long_scalar_repeated(), "4,000,000 characters"),
    Hostile("recursive alias", "config:\n  docker:r: &r [a, *r]\n", "alias *r refers to the node that contains it"),
    Hostile("recursive mapping alias", "config:\n  docker:r: &r {a: *r}\n", "(a recursive alias)"),
    Hostile("deep flow lists", "config:\n  friday:target: " + "[" * 5000 + "]" * 5000 + "\n", "nests deeper than 64"),
    Hostile("deep flow mappings", "config:\n  docker:x: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n", "nests deeper"),
    Hostile(
        "deep block mappings",
        "config:\n" + "".join(f"{'  ' * (i + 1)}k{i}:\n" for i in range(400)) + "  " * 401 + "v\n",
        "nests deeper than 64",
    ),
    Hostile("deep sequences", "config:\n  docker:x:\n" + "".join("    " + "- " * 300 + "x\n"), "nests deeper"),
    Hostile("2 MB of comments", "config:\n  friday:target: docker\n" + "# padding\n" * 200_000, "larger than 1,000"),
    Hostile("2 MB one line", "config:\n  friday:environment: " + "a" * 2_000_000 + "\n", "larger than 1,000,000"),
    Hostile("Pulumi.yaml laughs", "name: friday\n" + laughs("l").replace("  l", "l")[8:], "expands to more", True),
    Hostile("Pulumi.yaml deep", "name: friday\nx: " + "[" * 5000 + "]" * 5000 + "\n", "nests deeper", True),
    Hostile("Pulumi.yaml oversize", "name: friday\n" + "#\n" * 600_000, "larger than 1,000,000", True),
]


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
