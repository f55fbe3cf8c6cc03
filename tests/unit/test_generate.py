"""`python -m infra generate` regenerates EVERY committed generated file, and `make check-generated`
diffs every one of them."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from infra import generate
from infra.cli import main
from infra.dashboards import files as dashboard_files
from testbed.paths import REPO_ROOT


def makefile_generated() -> list[str]:
    text = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    match = re.search(r"^GENERATED := (.+)$", text, re.M)
    assert match, "Makefile has no GENERATED list"
    return match.group(1).split()


def test_generate_covers_settings_alerts_and_dashboards() -> None:
    rels = {p.relative_to(REPO_ROOT).as_posix() for p in generate.expected_files()}
    assert {"Pulumi.yaml", "README.md", "docs/dashboards.md", "docs/performance.md"} <= rels
    assert {p.relative_to(REPO_ROOT).as_posix() for p in dashboard_files.expected_json()} <= rels
    assert any(r.startswith("alerts/") for r in rels)
    assert any(r.startswith("dashboards/") and r.endswith(".json") for r in rels)


def test_check_generated_diffs_every_generated_file() -> None:
    covered = makefile_generated()
    for path in generate.expected_files():
        rel = path.relative_to(REPO_ROOT).as_posix()
        assert any(rel == c or rel.startswith(c.rstrip("/") + "/") for c in covered), (
            f"{rel} is generated but `make check-generated` does not diff it"
        )


def test_generate_repairs_a_stale_dashboard_and_reference(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(REPO_ROOT / "dashboards", root / "dashboards")
    (root / "docs").mkdir()
    for rel in ("README.md", "Pulumi.yaml", "docs/dashboards.md", "docs/performance.md"):
        shutil.copy(REPO_ROOT / rel, root / rel)
    stale_json = root / "dashboards" / "gateway.json"
    stale_json.write_text("{}\n")
    doc = root / "docs" / "dashboards.md"
    doc.write_text(doc.read_text().replace("| Overview |", "| Overvue |"))
    assert main(["--root", str(root), "generate"]) == 0
    assert stale_json.read_text() == (REPO_ROOT / "dashboards" / "gateway.json").read_text()
    assert doc.read_text() == (REPO_ROOT / "docs" / "dashboards.md").read_text()
    assert (root / "alerts").is_dir()
