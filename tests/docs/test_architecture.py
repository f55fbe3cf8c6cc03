"""docs/architecture.md stays true: its table of spec fields by target says which fields of
`Service` each target's modules read, and it names every target of the registry."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from infra.stack.spec import Service
from infra.targets import registry
from testbed.paths import REPO_ROOT

DOC = REPO_ROOT / "docs" / "architecture.md"
# Each target's modules, as the document's table says.
MODULES: dict[str, list[Path]] = {
    "docker": [REPO_ROOT / "infra" / "targets" / f for f in ("docker_map.py", "docker_plan.py", "docker.py")],
    "kubernetes": [
        REPO_ROOT / "infra" / "targets" / "kubernetes.py",
        *sorted((REPO_ROOT / "infra" / "targets" / "kubernetes_map").glob("*.py")),
    ],
    "baremetal": sorted((REPO_ROOT / "infra" / "host").glob("*.py")),
}


def documented() -> dict[str, dict[str, bool]]:
    """{field: {target: reads}} from the table between the spec-fields markers."""
    text = DOC.read_text(encoding="utf-8")
    table = text[text.index("<!-- spec-fields:start -->") : text.index("<!-- spec-fields:end -->")]
    rows = [line.strip("|").split("|") for line in table.splitlines() if line.startswith("| `")]
    header = [
        c.strip() for c in next(line for line in table.splitlines() if line.startswith("| Field")).strip("|").split("|")
    ]
    return {
        cells[0].strip().strip("`"): {t: cells[i].strip() == "reads" for i, t in enumerate(header) if i}
        for cells in rows
    }


def read_fields() -> dict[str, dict[str, bool]]:
    """{field: {target: does any of its modules read `.field`}}."""
    sources = {t: "\n".join(p.read_text(encoding="utf-8") for p in paths) for t, paths in MODULES.items()}
    return {
        f.name: {t: re.search(rf"\.{f.name}\b", source) is not None for t, source in sources.items()}
        for f in dataclasses.fields(Service)
    }


def test_the_table_of_spec_fields_by_target_is_true() -> None:
    assert documented() == read_fields()


def test_the_table_has_a_column_for_every_target_of_the_registry() -> None:
    assert set(MODULES) == {t.name for t in registry.TARGETS}
    assert all(set(row) == set(MODULES) for row in documented().values())
