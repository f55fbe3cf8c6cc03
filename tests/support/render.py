"""Render a stack into a folder the real tools can check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from infra import render
from infra.settings import Settings


def render_into(settings: Settings, out: Path) -> Path:
    """Render the stack into out, then put a placeholder file where each secret file would be.

    promtool checks that files a config names exist; render itself writes no secret files
    (it lists them in services/<name>.json), so the test adds them with placeholder content.
    """
    render.write(settings, out)
    for doc_path in (out / "services").glob("*.json"):
        doc = json.loads(doc_path.read_text())
        for secret_file in doc["secret_files"]:
            path = out / "files" / doc["name"] / secret_file["path"].lstrip("/")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secret_file["content"])
    return out


def prometheus_dir(out: Path) -> Path:
    return out / "files/prometheus/etc/prometheus"


def alertmanager_file(out: Path) -> Path:
    return out / "files/alertmanager/etc/alertmanager/alertmanager.yml"


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())
