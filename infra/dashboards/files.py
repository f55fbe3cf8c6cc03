"""The committed `dashboards/*.json`: generated from `dashboards/*.dashboard.py` (`make generate`)."""

from __future__ import annotations

from pathlib import Path

from grafanalib._gen import loader

from infra.dashboards import gateway, grafana, model, reference, slo, stack
from infra.settings.load import REPO_ROOT

SUFFIX = ".dashboard.py"
# File stem -> definition: what Grafana provisions (infra.stack.grafana) and tests query.
DASHBOARDS: dict[str, model.Dashboard] = {
    "gateway": gateway.DASHBOARD,
    "stack": stack.DASHBOARD,
    "slo": slo.DASHBOARD,
}


def sources(root: Path = REPO_ROOT) -> list[Path]:
    return sorted((root / "dashboards").glob(f"*{SUFFIX}"))


def json_path(source: Path) -> Path:
    return source.with_name(source.name.removesuffix(SUFFIX) + ".json")


DOC = Path("docs/dashboards.md")


def expected_json(root: Path = REPO_ROOT) -> dict[Path, str]:
    """Each entry point's dashboard rendered fresh, by the JSON path it is committed at."""
    return {json_path(src): grafana.render(loader(str(src))) for src in sources(root)}


def expected_files(root: Path = REPO_ROOT) -> dict[Path, str]:
    """The dashboard JSON files and docs/dashboards.md with its panel reference."""
    doc = (root / DOC).read_text(encoding="utf-8")
    return {**expected_json(root), root / DOC: reference.with_reference(doc, list(DASHBOARDS.values()))}


def write_all(root: Path = REPO_ROOT) -> list[Path]:
    changed = []
    for path, content in expected_files(root).items():
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            path.write_text(content, encoding="utf-8")
            changed.append(path)
    return changed


def provisioned() -> dict[str, str]:
    """{file name: JSON} of every dashboard, built from the definitions (no file read)."""
    return {f"{stem}.json": grafana.render(grafana.build(d)) for stem, d in DASHBOARDS.items()}
