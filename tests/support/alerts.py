"""The committed alert rule files, read as data."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from testbed.paths import REPO_ROOT

ALERTS_DIR = REPO_ROOT / "alerts"
# A bound against a hang, not a performance check: `promtool test rules` over every file takes ~30 s on
# a quiet two-core machine and over 60 s when other test groups run beside it.
PROMTOOL_TIMEOUT = 300


def promtool(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    """Run promtool (Debian's prometheus package), bounded."""
    return subprocess.run(
        ["promtool", *args], cwd=cwd, capture_output=True, text=True, timeout=PROMTOOL_TIMEOUT, check=False
    )


def check_config(config_dir: Path) -> subprocess.CompletedProcess[str]:
    """`promtool check config` of the prometheus.yml in config_dir (its relative rule and file paths resolve there)."""
    return promtool("check", "config", "prometheus.yml", cwd=config_dir)


def committed_rules() -> list[dict[str, Any]]:
    out = []
    for path in sorted(ALERTS_DIR.glob("*.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            out.extend(group["rules"])
    return out


def alert_rules() -> dict[str, dict[str, Any]]:
    return {r["alert"]: r for r in committed_rules() if "alert" in r}
