"""docs/engine-test.md keeps up with the engine suite: every image in its table, every test it names."""

from __future__ import annotations

import ast
import re

from testbed.paths import REPO_ROOT
from tests.support.engine.images import GATEWAY_REPOSITORY, LEFT_OUT, STANDINS

DOC = (REPO_ROOT / "docs" / "engine-test.md").read_text(encoding="utf-8")


def test_every_upstream_image_is_in_the_image_table() -> None:
    [table] = re.findall(r"## Images\n(.*?)\n## ", DOC, re.S)
    named = set(re.findall(r"`([\w./-]+)`", table))
    missing = (set(STANDINS) | set(LEFT_OUT) | {GATEWAY_REPOSITORY}) - named
    assert not missing, f"docs/engine-test.md's image table misses {sorted(missing)}"


def test_every_test_the_doc_names_exists() -> None:
    defined = set()
    for path in (REPO_ROOT / "tests" / "engine").glob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defined |= {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}
    named = set(re.findall(r"`(test_\w+)`", DOC))
    assert named and named <= defined, f"named but not defined: {sorted(named - defined)}"
    undocumented = {t for t in defined if t.startswith("test_") and t not in named}
    proxy_tests = {
        n.name
        for n in ast.parse((REPO_ROOT / "tests/engine/test_proxy.py").read_text(encoding="utf-8")).body
        if isinstance(n, ast.FunctionDef)
    }
    # The proxy tests are named as one row (their file).
    assert undocumented <= proxy_tests, f"engine tests missing from the doc's table: {sorted(undocumented)}"
