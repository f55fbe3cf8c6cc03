"""Test hygiene the suite holds itself to, checked over the source (ast):

- every subprocess call and every wait on a child has a timeout, and a child's output pipe is read
  only through testbed/processes.py's bounded read_line;
- no test module imports another test module: shared helpers live in tests/support (the host
  suite tests/infra, which operators run on its own, keeps its options and probe modules);
- the benchmarks (bench/) do not import the tests: what both run is in testbed/, which imports
  neither.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from testbed.paths import REPO_ROOT

SUBPROCESS_CALLS = {"run", "check_output", "check_call", "call"}
PIPES = {"stdout", "stderr"}
PIPE_READS = {"read", "readline", "readlines"}
BOUNDED_READER = REPO_ROOT / "testbed/processes.py"


def python_files() -> list[Path]:
    roots = [REPO_ROOT / d for d in ("infra", "tests", "testbed", "bench", "scripts")]
    return sorted(p for root in roots for p in root.rglob("*.py"))


def unbounded(tree: ast.AST, path: Path) -> list[str]:
    awaited = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Await)}
    found = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(REPO_ROOT)}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            func, keywords = node.func, {k.arg for k in node.keywords}
            owner = func.value
            if isinstance(owner, ast.Name) and owner.id == "subprocess" and func.attr in SUBPROCESS_CALLS:
                if "timeout" not in keywords:
                    found.append(f"{where}: subprocess.{func.attr} without timeout=")
            elif func.attr in ("wait", "communicate") and not node.args and "timeout" not in keywords:
                if id(node) not in awaited:  # asyncio's awaited waits are bounded by their own tasks
                    found.append(f"{where}: .{func.attr}() without a timeout")
            elif (
                func.attr in PIPE_READS
                and isinstance(owner, ast.Attribute)
                and owner.attr in PIPES
                and path != BOUNDED_READER
            ):
                found.append(f"{where}: .{owner.attr}.{func.attr}() on a child's pipe; use processes.read_line")
        if isinstance(node, ast.For) and isinstance(node.iter, ast.Attribute) and node.iter.attr in PIPES:
            found.append(f"{where}: iterating over a child's {node.iter.attr}; use processes.read_line")
    return found


def test_every_subprocess_and_child_read_is_bounded() -> None:
    problems = [p for path in python_files() for p in unbounded(ast.parse(path.read_text()), path)]
    assert problems == []


@pytest.mark.parametrize(
    "source",
    [
        "import subprocess\nsubprocess.run(['true'])",
        "proc.wait()",
        "out, err = proc.communicate()",
        "line = proc.stderr.readline()",
        "for line in proc.stdout:\n    pass",
    ],
)
def test_the_check_sees_an_unbounded_call(source: str) -> None:
    assert unbounded(ast.parse(source), REPO_ROOT / "x.py")


def test_the_check_accepts_bounded_calls() -> None:
    source = (
        "subprocess.run(['true'], timeout=5)\nproc.wait(5)\nproc.communicate(timeout=5)\n"
        "async def f():\n    await e.wait()"
    )
    assert unbounded(ast.parse(source), REPO_ROOT / "x.py") == []


def imported_modules(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names += [a.name for a in node.names]
    return names


def test_no_test_module_imports_another_test_module() -> None:
    problems = []
    for path in sorted((REPO_ROOT / "tests").rglob("*.py")):
        for module in imported_modules(ast.parse(path.read_text())):
            parts = module.split(".")
            if parts[0] != "tests" or len(parts) < 2:
                continue
            if any(part.startswith("test_") or part == "conftest" for part in parts):
                problems.append(f"{path.relative_to(REPO_ROOT)} imports the test module {module}")
            elif parts[1] not in ("support", "infra"):
                problems.append(f"{path.relative_to(REPO_ROOT)} imports {module}: shared helpers go in tests/support")
    assert problems == []


def test_bench_and_testbed_do_not_import_the_tests() -> None:
    problems = []
    for folder, forbidden in (("bench", ("tests",)), ("testbed", ("tests", "bench"))):
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            for module in imported_modules(ast.parse(path.read_text())):
                if module.split(".")[0] in forbidden:
                    problems.append(f"{path.relative_to(REPO_ROOT)} imports {module}")
    assert problems == []
