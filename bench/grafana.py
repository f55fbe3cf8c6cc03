"""The committed dashboards' queries as Grafana sends them to Prometheus.

Discovered from dashboards/*.json (whatever panels they have), not from a list. For a time range
Grafana computes each panel's interval as the range divided by the panel's maxDataPoints,
rounded to a "nice" value (its roundInterval ladder), never below the panel's min interval (else
the datasource's scrape interval, 15 s by default); that interval is the range query's step,
start and end are aligned to it, `$__interval` is it and `$__rate_interval` is
max(interval + scrape interval, 4 * scrape interval). Stat panels' targets are instant queries at
the end of the range. Template variables take their "All" value (`.*`), as the dashboards open.
Rows Grafana draws collapsed would not be queried on refresh; these dashboards have none.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.dashboards import scope
from infra.dashboards.datasources import PROMETHEUS
from infra.dashboards.model import substitute

SCRAPE_INTERVAL_MS = 15_000
# Grafana's default when a panel sets no maxDataPoints: about the panel's width in pixels.
DEFAULT_MAX_DATA_POINTS = 1000
ALL = ".*"

# (below this many ms, Grafana's roundInterval picks this interval in ms)
_LADDER = (
    (10, 1),
    (15, 10),
    (35, 20),
    (75, 50),
    (150, 100),
    (350, 200),
    (750, 500),
    (1_500, 1_000),
    (3_500, 2_000),
    (7_500, 5_000),
    (12_500, 10_000),
    (17_500, 15_000),
    (25_000, 20_000),
    (45_000, 30_000),
    (90_000, 60_000),
    (210_000, 120_000),
    (450_000, 300_000),
    (750_000, 600_000),
    (1_050_000, 900_000),
    (1_500_000, 1_200_000),
    (2_700_000, 1_800_000),
    (5_400_000, 3_600_000),
    (9_000_000, 7_200_000),
    (16_200_000, 10_800_000),
    (32_400_000, 21_600_000),
    (86_400_000, 43_200_000),
    (604_800_000, 86_400_000),
    (1_814_400_000, 604_800_000),
    (3_628_800_000, 2_592_000_000),
)
YEAR_MS = 31_536_000_000


def round_interval(ms: float) -> int:
    for below, nice in _LADDER:
        if ms < below:
            return nice
    return YEAR_MS


_DURATION = re.compile(r"^(\d+)(ms|s|m|h|d|w)$")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


def duration_ms(text: str) -> int:
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not a Grafana interval: {text!r}")
    return int(match.group(1)) * _UNIT_MS[match.group(2)]


def prom_duration(ms: int) -> str:
    """The largest whole unit PromQL accepts for a range selector."""
    for unit in ("d", "h", "m", "s"):
        if ms % _UNIT_MS[unit] == 0:
            return f"{ms // _UNIT_MS[unit]}{unit}"
    return f"{ms}ms"


@dataclass(frozen=True)
class Target:
    dashboard: str
    panel: str
    ref: str
    expr: str
    instant: bool
    max_data_points: int
    min_interval_ms: int

    @property
    def name(self) -> str:
        return f"{self.dashboard} / {self.panel} / {self.ref}"


@dataclass(frozen=True)
class Request:
    """One HTTP query to Prometheus: the API path and its parameters."""

    target: Target
    path: str
    params: dict[str, str]


def targets(dashboard_json: dict[str, Any], name: str) -> list[Target]:
    """Every Prometheus query of a dashboard's panels (rows included, hidden targets skipped)."""
    out = []
    panels = list(dashboard_json["panels"])
    for row in [p for p in panels if p["type"] == "row"]:
        panels += row.get("panels", [])
    for panel in panels:
        for target in panel.get("targets", []):
            if target.get("datasource", {}).get("type") != PROMETHEUS.type or target.get("hide"):
                continue
            out.append(
                Target(
                    name,
                    panel["title"],
                    target["refId"],
                    target["expr"],
                    bool(target.get("instant")) and not target.get("range", False),
                    int(panel.get("maxDataPoints") or DEFAULT_MAX_DATA_POINTS),
                    duration_ms(panel["interval"]) if panel.get("interval") else SCRAPE_INTERVAL_MS,
                )
            )
    return out


def committed(root: Path) -> dict[str, list[Target]]:
    """{dashboard file stem: its targets} of dashboards/*.json."""
    return {
        path.stem: targets(json.loads(path.read_text(encoding="utf-8")), path.stem)
        for path in sorted((root / "dashboards").glob("*.json"))
    }


def request(target: Target, end_s: int, range_s: int) -> Request:
    """The query Grafana sends for target over [end - range, end]."""
    range_ms = range_s * 1000
    interval_ms = max(round_interval(range_ms / target.max_data_points), target.min_interval_ms)
    rate_ms = max(interval_ms + SCRAPE_INTERVAL_MS, 4 * SCRAPE_INTERVAL_MS)
    values = {
        "environment": ALL,
        "instance": ALL,
        "__interval": prom_duration(interval_ms),
        "__rate_interval": prom_duration(rate_ms),
        "__range": f"{range_s}s",
        **scope.EVERY_STACK,
    }
    expr = substitute(target.expr, values)
    if target.instant:
        return Request(target, "/api/v1/query", {"query": expr, "time": str(end_s)})
    step_s = interval_ms / 1000
    start = (end_s - range_s) // step_s * step_s
    end = end_s // step_s * step_s
    return Request(
        target,
        "/api/v1/query_range",
        {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step_s:g}"},
    )
