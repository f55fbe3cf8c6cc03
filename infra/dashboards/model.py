"""Dashboards as plain data: rows of panels, each with its queries, unit, thresholds and links.

No grafanalib here: tests read the queries straight from these definitions, and
`infra.dashboards.grafana` turns them into grafanalib objects.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

from infra.alerting.thresholds import Threshold
from infra.dashboards.datasources import PROMETHEUS, Datasource
from infra.metrics.catalog import by_name

PanelKind = Literal["timeseries", "stat", "logs"]


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""
    datasource: Datasource = PROMETHEUS


@dataclass(frozen=True)
class Step:
    """One threshold step: from `value` upwards the colour is `color` (None: the base step)."""

    value: float | None
    color: str


@dataclass(frozen=True)
class NoData:
    """Why a panel stays empty against gateway 0.1.0 or in this repository's live test."""

    kind: Literal["not-exposed", "idle", "service"]
    reason: str


def not_exposed(*metrics: str) -> NoData:
    """The panel needs seed metrics gateway 0.1.0 does not expose (checked against the catalog)."""
    for name in metrics:
        if by_name(name).exposed_by_gateway:
            raise ValueError(f"{name} is exposed by gateway 0.1.0; the panel is not missing it")
    names = ", ".join(metrics)
    return NoData(
        "not-exposed",
        f"No data from gateway 0.1.0: it does not expose {names} (named by the specification); "
        "the panel fills in once the gateway does.",
    )


def idle_gateway(metric: str, until: str) -> NoData:
    """The gateway 0.1.0 exposes the metric but has no sample of it until something happened that an
    idle gateway (the live test's real one) cannot be made to do on demand."""
    if not by_name(metric).exposed_by_gateway:
        raise ValueError(f"{metric} is not exposed by gateway 0.1.0: use not_exposed")
    return NoData(
        "idle",
        f"No data on an idle gateway 0.1.0: {metric} has no sample until {until}.",
    )


def needs_service(service: str) -> NoData:
    """The panel needs a service (Loki, Alloy) that the repository's live tests do not run."""
    return NoData(
        "service",
        f"Needs {service}: data appears once {service} runs in the stack (not run by this repository's "
        "automated tests, see docs/dashboards.md).",
    )


def needs_probes() -> NoData:
    """The panel shows blackbox probe series: the live dashboard test runs no blackbox exporter
    (tests/probes/ runs Debian's against the double, nginx and Caddy on its own)."""
    return NoData(
        "service",
        "Needs the blackbox exporter's probes: data appears once the stack's blackbox service runs "
        "(the dashboard live test runs none; tests/probes/ runs the probes themselves).",
    )


@dataclass(frozen=True)
class Panel:
    title: str
    kind: PanelKind
    queries: tuple[Query, ...]
    description: str
    unit: str = "short"
    width: int = 8
    height: int = 8
    # Threshold steps; on time series they are drawn as a dashed line, on stats they colour.
    steps: tuple[Step, ...] = ()
    # The alerts that watch what this panel shows: each one's runbook is linked from the panel.
    alerts: tuple[Threshold, ...] = ()
    min: float | None = None
    max: float | None = None
    # Stat panels: value -> text shown (e.g. 1 -> "valid").
    value_text: Mapping[int, tuple[str, str]] = field(default_factory=dict)
    no_data: NoData | None = None
    # A panel that has data in the live test but on a deployment only after something happened there
    # (e.g. "a receiver is configured"): said in the reference, so nobody expects data before.
    data_once: str | None = None
    # Grafana's "Min interval": no finer query step than this (the recording rules' interval for
    # panels that read them). None: the datasource's scrape interval.
    min_interval: str | None = None

    @property
    def instant(self) -> bool:
        """Stat panels show one value: Grafana runs their queries as instant queries."""
        return self.kind == "stat"

    def full_description(self) -> str:
        return f"{self.description} {self.no_data.reason}" if self.no_data else self.description


@dataclass(frozen=True)
class Row:
    title: str
    panels: tuple[Panel, ...]


@dataclass(frozen=True)
class Variable:
    """A query template variable (multi-select, with All matching every value)."""

    name: str
    label: str
    query: str
    datasource: Datasource = PROMETHEUS


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    description: str
    tags: tuple[str, ...]
    rows: tuple[Row, ...]
    variables: tuple[Variable, ...]
    version: int = 1
    refresh: str = "30s"
    time_from: str = "now-6h"

    def panels(self) -> Iterator[Panel]:
        for row in self.rows:
            yield from row.panels

    def queries(self) -> Iterator[tuple[Panel, Query]]:
        for panel in self.panels():
            for query in panel.queries:
                yield panel, query


_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")


def substitute(expr: str, values: Mapping[str, str]) -> str:
    """Replace `$name` and `${name}` as Grafana would; an unknown variable is an error."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in values:
            raise KeyError(f"no value given for template variable ${name} in {expr!r}")
        return values[name]

    return _VARIABLE.sub(one, expr)
