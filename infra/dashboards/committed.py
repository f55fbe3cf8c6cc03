"""The committed dashboards/*.json, read as they are: what Grafana provisions and `render` writes.

Building a dashboard needs grafanalib (a slow import); the JSON is committed and a test fails
when it drifts from its definition, so deploying and rendering read the files instead and
grafanalib is imported only when dashboards are regenerated (`make generate`).
"""

from __future__ import annotations

from pathlib import Path

from infra.settings.load import REPO_ROOT


def files(root: Path = REPO_ROOT) -> dict[str, str]:
    """{file name: JSON text} of every committed dashboard."""
    return {path.name: path.read_text(encoding="utf-8") for path in sorted((root / "dashboards").glob("*.json"))}
