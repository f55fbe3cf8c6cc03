"""Dashboard definitions -> grafanalib objects -> Grafana dashboard JSON (schemaVersion 41).

grafanalib 0.7.1 still writes keys of the old dashboard schema (`rows`, `__inputs`, panel
`span`...) and no defaults fitting a modern Grafana; `document` removes those keys (the list
below) so the JSON has the shape of the schema version it declares. The test suite checks the
result against grafana-foundation-sdk's dashboard model.
"""

from __future__ import annotations

import json
from typing import Any

import grafanalib.core as gl
from grafanalib._gen import DashboardEncoder

from infra.dashboards import model, scope
from infra.dashboards.datasources import QUERIED, Datasource
from infra.dashboards.links import runbook_link

# The dashboard schema Grafana 11.6 and 12.x write and the pinned grafana-foundation-sdk
# models; Grafana migrates older versions on load but never downgrades newer ones.
SCHEMA_VERSION = 41
GRID_COLUMNS = 24
ROW_HEIGHT = 1

# Keys of the pre-v5 schema or of removed panels that grafanalib still writes.
LEGACY_DASHBOARD_KEYS = ("__inputs", "rows", "style", "sharedCrosshair", "hideControls", "gnetId")
LEGACY_PANEL_KEYS = (
    "cacheTimeout",
    "editable",
    "error",
    "height",
    "hideTimeOverride",
    "minSpan",
    "span",
    "maxPerRow",
    "repeat",
    "repeatDirection",
    "timeFrom",
    "timeShift",
)
LEGACY_TARGET_KEYS = ("query", "target", "metric", "step", "intervalFactor", "interval")
# A row panel only groups panels: no queries, links or field config of its own.
ROW_KEYS = ("type", "collapsed", "title", "datasource", "gridPos", "id", "panels", "repeat")
LEGACY_TIMEPICKER_KEYS = ("time_options",)
LEGACY_VARIABLE_KEYS = ("tags", "useTags", "tagsQuery", "tagValuesQuery", "auto", "auto_min", "auto_count")


def _target(query: model.Query, ref_id: str, instant: bool) -> gl.Target:
    return gl.Target(
        expr=query.expr,
        legendFormat=query.legend,
        refId=ref_id,
        datasource=query.datasource.ref(),
        instant=instant,
    )


def _steps(panel: model.Panel) -> list[dict[str, Any]]:
    steps = panel.steps or (model.Step(None, "green"),)
    return [{"color": s.color, "value": s.value} for s in steps]


def _mappings(panel: model.Panel) -> list[dict[str, Any]]:
    if not panel.value_text:
        return []
    options = {
        str(value): {"text": text, "color": color, "index": i}
        for i, (value, (text, color)) in enumerate(sorted(panel.value_text.items()))
    }
    return [{"type": "value", "options": options}]


def _panel(panel: model.Panel, panel_id: int, x: int, y: int) -> gl.Panel:
    ref_ids = "ABCDEFGHIJ"
    common: dict[str, Any] = {
        "title": panel.title,
        "description": panel.full_description(),
        "id": panel_id,
        "gridPos": gl.GridPos(h=panel.height, w=panel.width, x=x, y=y),
        "dataSource": panel.queries[0].datasource.ref(),
        "targets": [_target(q, ref_ids[i], panel.instant) for i, q in enumerate(panel.queries)],
        "interval": panel.min_interval,
        "links": [runbook_link(alert) for alert in panel.alerts],
        "thresholds": _steps(panel),
    }
    limits = {k: v for k, v in (("min", panel.min), ("max", panel.max)) if v is not None}
    if panel.kind == "timeseries":
        return gl.TimeSeries(
            **common,
            unit=panel.unit,
            # Draw the thresholds (the alert's) as a dashed line when the panel has any.
            thresholdsStyleMode="dashed" if panel.steps else "off",
            legendDisplayMode="list",
            tooltipMode="multi",
            mappings=_mappings(panel),
            extraJson={"fieldConfig": {"defaults": limits}} if limits else None,
        )
    if panel.kind == "stat":
        return gl.Stat(
            **common,
            format=panel.unit,
            reduceCalc="lastNotNull",
            colorMode="value" if panel.steps else "none",
            graphMode="none",
            mappings=_mappings(panel),
            noValue="no data",
            extraJson={"fieldConfig": {"defaults": limits}} if limits else None,
        )
    return gl.Logs(
        **common,
        showTime=True,
        wrapLogMessages=True,
        enableLogDetails=True,
        sortOrder="Descending",
    )


def _variable(variable: model.Variable) -> gl.Template:
    template = gl.Template(
        name=variable.name,
        label=variable.label,
        query=variable.query,
        dataSource=variable.datasource.ref(),
        includeAll=True,
        multi=True,
        allValue=".*",
        refresh=gl.REFRESH_ON_TIME_RANGE_CHANGE,
        sort=gl.SORT_ALPHA_ASC,
    )
    # grafanalib has no "All" default; select it so the dashboard opens on every value.
    template._current = {"selected": True, "text": ["All"], "value": ["$__all"]}
    return template


def _datasource_variable(source: Datasource) -> dict[str, Any]:
    """A `datasource` variable: any datasource of the type; left unset, Grafana selects the
    instance's default of that type (or its first one), so the dashboard works on a Grafana whose
    datasources have other uids (a stock kube-prometheus-stack) and on the provisioned ones."""
    return {
        "type": "datasource",
        "name": source.variable,
        "label": f"{source.name} datasource",
        "query": source.type,
        "regex": "",
        "hide": 0,
        "includeAll": False,
        "multi": False,
        "refresh": 1,
        "current": {},
        "options": [],
    }


def build(dashboard: model.Dashboard) -> gl.Dashboard:
    """The grafanalib Dashboard of a definition: rows laid out on Grafana's 24-column grid."""
    panels: list[gl.Panel] = []
    next_id = 1
    y = 0
    for row in dashboard.rows:
        panels.append(
            gl.RowPanel(title=row.title, id=next_id, gridPos=gl.GridPos(h=ROW_HEIGHT, w=GRID_COLUMNS, x=0, y=y))
        )
        next_id += 1
        y += ROW_HEIGHT
        x, line_height = 0, 0
        for panel in row.panels:
            if x + panel.width > GRID_COLUMNS:
                x, y, line_height = 0, y + line_height, 0
            panels.append(_panel(panel, next_id, x, y))
            next_id += 1
            x += panel.width
            line_height = max(line_height, panel.height)
        y += line_height
    return gl.Dashboard(
        title=dashboard.title,
        uid=dashboard.uid,
        description=dashboard.description,
        tags=list(dashboard.tags),
        version=dashboard.version,
        schemaVersion=SCHEMA_VERSION,
        refresh=dashboard.refresh,
        time=gl.Time(dashboard.time_from, "now"),
        timezone="browser",
        editable=False,
        graphTooltip=gl.GRAPH_TOOLTIP_MODE_SHARED_CROSSHAIR,
        panels=panels,
        templating=gl.Templating(
            list=[
                *(_datasource_variable(d) for d in QUERIED if any(q.datasource is d for _, q in dashboard.queries())),
                # Before the query variables, whose queries use them (infra/dashboards/scope.py).
                *scope.variables(),
                *(_variable(v) for v in dashboard.variables),
            ]
        ),
        annotations=gl.Annotations(list=[_alert_annotation()]),
    )


def _alert_annotation() -> dict[str, Any]:
    # Grafana's built-in annotations (dashboard annotations and alert state changes).
    return {
        "builtIn": 1,
        "datasource": {"type": "grafana", "uid": "-- Grafana --"},
        "enable": True,
        "hide": True,
        "iconColor": "rgba(0, 211, 255, 1)",
        "name": "Annotations & Alerts",
        "type": "dashboard",
    }


def _drop_none(doc: dict[str, Any], keys: tuple[str, ...] = ()) -> None:
    for key in [k for k, v in doc.items() if v is None or k in keys]:
        del doc[key]


def document(dashboard: gl.Dashboard) -> dict[str, Any]:
    """Grafana dashboard JSON of a grafanalib Dashboard, without the keys of old schemas."""
    doc: dict[str, Any] = json.loads(json.dumps(dashboard.to_json_data(), cls=DashboardEncoder))
    _drop_none(doc, LEGACY_DASHBOARD_KEYS)
    _drop_none(doc["timepicker"], LEGACY_TIMEPICKER_KEYS)
    for panel in doc["panels"]:
        if panel["type"] == "row":
            _drop_none(panel, tuple(k for k in panel if k not in ROW_KEYS))
            continue
        _drop_none(panel, LEGACY_PANEL_KEYS)
        defaults = panel.get("fieldConfig", {}).get("defaults", {})
        # Threshold steps keep their null base value; other null defaults are noise.
        _drop_none(defaults)
        _drop_none(defaults.get("custom", {}))
        for target in panel.get("targets", []):
            # `format` (time_series, table) exists for Prometheus queries only.
            prometheus = target["datasource"]["type"] == "prometheus"
            extra = () if prometheus else ("format", "instant")
            _drop_none(target, LEGACY_TARGET_KEYS + extra)
            if prometheus:
                # Instant (stat panels) or range, never both: Grafana would run both queries.
                target["range"] = not target["instant"]
    for variable in doc["templating"]["list"]:
        if variable["type"] not in ("datasource", "constant"):
            _drop_none(variable, LEGACY_VARIABLE_KEYS)
    return doc


def render(dashboard: gl.Dashboard) -> str:
    """The committed file's text: sorted keys, two-space indent, final newline."""
    return json.dumps(document(dashboard), indent=2, sort_keys=True) + "\n"
