"""The committed dashboard JSON: generated, explicit, structurally sound, valid for its schema."""

from __future__ import annotations

import enum
import json
import re
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
import yaml
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as sdk_dashboard
from grafana_foundation_sdk.models.dashboard import Dashboard as SdkDashboard
from grafanalib._gen import loader

from infra.dashboards import files, grafana, scope
from infra.dashboards.datasources import DATASOURCES, QUERIED
from infra.stack import grafana as grafana_service
from testbed.paths import REPO_ROOT

COMMITTED = sorted((REPO_ROOT / "dashboards").glob("*.json"))
# Built-in Grafana variables the queries may use besides the dashboard's own.
GRAFANA_BUILTINS = {"__rate_interval", "__interval", "__range"}


def load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text())
    return doc


def panels(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in doc["panels"] if p["type"] != "row"]


def test_committed_json_is_a_fresh_generation() -> None:
    expected = files.expected_json()
    assert sorted(expected) == COMMITTED, "every *.dashboard.py has its committed .json and no other"
    for path, text in files.expected_files().items():
        assert path.read_text() == text, f"{path.name} is stale: run `make generate`"


def test_entry_points_are_the_registered_definitions() -> None:
    stems = [src.name.removesuffix(files.SUFFIX) for src in files.sources()]
    assert sorted(stems) == sorted(files.DASHBOARDS)
    for src in files.sources():
        definition = files.DASHBOARDS[src.name.removesuffix(files.SUFFIX)]
        assert grafana.render(loader(str(src))) == grafana.render(grafana.build(definition))


def test_generation_is_deterministic() -> None:
    first = files.provisioned()
    assert first == files.provisioned()
    assert first == {p.name: p.read_text() for p in COMMITTED}


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.name)
def test_dashboard_identity_is_explicit(path: Path) -> None:
    doc = load(path)
    definition = files.DASHBOARDS[path.stem]
    assert doc["uid"] == definition.uid and re.fullmatch(r"[a-z0-9-]{8,40}", doc["uid"])
    assert doc["title"] == definition.title
    assert doc["tags"] and "friday" in doc["tags"]
    assert doc["version"] == 1
    assert doc["schemaVersion"] == grafana.SCHEMA_VERSION == 41
    assert doc["refresh"] == "30s"
    assert doc["time"] == {"from": "now-6h", "to": "now"}
    assert doc["editable"] is False
    # Provisioned by uid: no import-time inputs, no legacy rows.
    for key in ("__inputs", "rows", "style", "sharedCrosshair"):
        assert key not in doc


def test_dashboard_uids_are_unique() -> None:
    uids = [load(p)["uid"] for p in COMMITTED]
    assert len(set(uids)) == len(uids)


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.name)
def test_panel_ids_unique_and_grid_without_overlap(path: Path) -> None:
    doc = load(path)
    ids = [p["id"] for p in doc["panels"]]
    assert len(set(ids)) == len(ids)
    boxes = []
    for p in doc["panels"]:
        g = p["gridPos"]
        assert g["w"] >= 1 and g["h"] >= 1 and g["x"] >= 0 and g["y"] >= 0, p["title"]
        assert g["x"] + g["w"] <= 24, f"{p['title']} runs past the 24 grid columns"
        boxes.append((p["title"], g))
    for (ta, a), (tb, b) in combinations(boxes, 2):
        apart = (
            a["x"] + a["w"] <= b["x"]
            or b["x"] + b["w"] <= a["x"]
            or a["y"] + a["h"] <= b["y"]
            or b["y"] + b["h"] <= a["y"]
        )
        assert apart, f"{ta!r} and {tb!r} overlap"


def provisioned_datasources() -> list[dict[str, Any]]:
    [provisioning] = [f for f in grafana_service.config_files() if f.path == grafana_service.DATASOURCES_PATH]
    doc = yaml.safe_load(provisioning.content)
    sources: list[dict[str, Any]] = doc["datasources"]
    return sources


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.name)
def test_every_query_names_its_datasource_through_a_datasource_variable(path: Path) -> None:
    """No hard-coded uid (a stock kube-prometheus-stack Grafana has other uids): every panel,
    target and query variable points at `${<variable>}`, a `datasource` variable of the same type."""
    doc = load(path)
    chosen = {v["name"]: v["query"] for v in doc["templating"]["list"] if v["type"] == "datasource"}
    assert chosen, "no datasource variable"
    assert set(chosen.values()) <= {d.type for d in QUERIED}

    def by_variable(ref: dict[str, str], where: str) -> None:
        assert set(ref) == {"type", "uid"}, where
        match = re.fullmatch(r"\$\{(\w+)\}", ref["uid"])
        assert match, f"{where}: {ref} names a uid, not a datasource variable"
        assert chosen.get(match[1]) == ref["type"], f"{where}: {ref} is not a {ref['type']} datasource variable"

    for panel in panels(doc):
        assert panel["targets"], f"{panel['title']} has no query"
        by_variable(panel["datasource"], panel["title"])
        for target in panel["targets"]:
            by_variable(target["datasource"], panel["title"])
    # Constants (infra/dashboards/scope.py) query nothing.
    for variable in (v for v in doc["templating"]["list"] if v["type"] not in ("datasource", "constant")):
        by_variable(variable["datasource"], variable["name"])
    # Left unset, each variable selects the instance's default (or only) datasource of its type.
    assert all(v["current"] == {} for v in doc["templating"]["list"] if v["type"] == "datasource")


def test_where_grafana_is_provisioned_each_variable_defaults_to_the_provisioned_datasource() -> None:
    provisioned = provisioned_datasources()
    assert {d["uid"]: d["type"] for d in provisioned} == {d.uid: d.type for d in DATASOURCES}
    for source in QUERIED:
        of_type = [d for d in provisioned if d["type"] == source.type]
        # The only one of its type, or the default: what an unset datasource variable selects.
        assert len(of_type) == 1 and (source.type != "prometheus" or of_type[0]["isDefault"] is True)


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.name)
def test_queries_use_only_defined_variables(path: Path) -> None:
    doc = load(path)
    defined = {v["name"] for v in doc["templating"]["list"]}
    for panel in panels(doc):
        for target in panel["targets"]:
            used = set(re.findall(r"\$\{?(\w+)", target["expr"]))
            assert used <= defined | GRAFANA_BUILTINS, f"{panel['title']}: {used - defined}"


def test_template_variables_for_environment_and_instance() -> None:
    gateway = load(REPO_ROOT / "dashboards/gateway.json")
    variables = {v["name"]: v for v in gateway["templating"]["list"] if v["type"] not in ("datasource", "constant")}
    assert set(variables) == {"environment", "instance"}
    # The scope constants: hidden, every series in the committed files (infra/dashboards/scope.py).
    constants = {v["name"]: (v["hide"], v["query"]) for v in gateway["templating"]["list"] if v["type"] == "constant"}
    assert constants == {name: (2, value) for name, value in scope.EVERY_STACK.items()}
    for v in variables.values():
        assert v["type"] == "query" and v["includeAll"] and v["multi"] and v["allValue"] == ".*"
        assert v["current"]["value"] == ["$__all"]
    # Every gateway query is narrowed by both variables (the Loki panel by its stream labels).
    for panel in panels(gateway):
        for target in panel["targets"]:
            if target["datasource"]["type"] == "prometheus":
                assert '$environment"' in target["expr"], panel["title"]
    stack = load(REPO_ROOT / "dashboards/stack.json")
    assert [v["name"] for v in stack["templating"]["list"]] == [
        "datasource",
        scope.STACK,
        scope.MONITORING,
        "environment",
    ]


def _lost(ours: Any, theirs: Any, path: str = "") -> list[str]:
    """Where `ours` has a key or value that `theirs` (the SDK's re-encoding) does not."""
    if isinstance(ours, dict):
        if not isinstance(theirs, dict):
            return [path]
        out = []
        for key, value in ours.items():
            out += [f"{path}.{key}"] if key not in theirs else _lost(value, theirs[key], f"{path}.{key}")
        return out
    if isinstance(ours, list):
        if not isinstance(theirs, list) or len(ours) != len(theirs):
            return [path]
        return [p for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) for p in _lost(a, b, f"{path}[{i}]")]
    return [] if ours == theirs else [f"{path}: {ours!r} became {theirs!r}"]


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.name)
def test_json_matches_grafana_foundation_sdk_dashboard_model(path: Path) -> None:
    """Decode with the SDK's typed model (panel options and queries by plugin) and re-encode.

    The SDK ignores keys its model lacks, so a key we write that does not survive the round
    trip is not part of the schema; equal values prove the types decode as intended.
    """
    register_default_plugins()
    doc = load(path)
    model = SdkDashboard.from_json(doc)
    assert model.schema_version == SdkDashboard().schema_version == doc["schemaVersion"]
    again = json.loads(json.dumps(model, cls=JSONEncoder))
    assert _lost(doc, again) == []


def test_the_sdk_check_catches_a_key_outside_the_model() -> None:
    register_default_plugins()
    doc = load(COMMITTED[0])
    doc["panels"][1]["span"] = 4  # a pre-v5 key grafanalib would write
    doc["panels"][1]["targets"][0]["metric"] = "x"
    again = json.loads(json.dumps(SdkDashboard.from_json(doc), cls=JSONEncoder))
    assert sorted(_lost(doc, again)) == [".panels[1].span", ".panels[1].targets[0].metric"]


# Enumerated fields we set, by panel type: (path in the panel, the SDK's enum of allowed values).
_ENUM_FIELDS: dict[str, list[tuple[str, type[enum.Enum]]]] = {
    "timeseries": [
        ("fieldConfig.defaults.color.mode", sdk_dashboard.FieldColorModeId),
        ("fieldConfig.defaults.custom.drawStyle", common.GraphDrawStyle),
        ("fieldConfig.defaults.custom.lineInterpolation", common.LineInterpolation),
        ("fieldConfig.defaults.custom.showPoints", common.VisibilityMode),
        ("fieldConfig.defaults.custom.axisPlacement", common.AxisPlacement),
        ("fieldConfig.defaults.custom.gradientMode", common.GraphGradientMode),
        ("fieldConfig.defaults.custom.thresholdsStyle.mode", common.GraphThresholdsStyleMode),
        ("fieldConfig.defaults.custom.scaleDistribution.type", common.ScaleDistribution),
        ("options.legend.displayMode", common.LegendDisplayMode),
        ("options.legend.placement", common.LegendPlacement),
        ("options.tooltip.mode", common.TooltipDisplayMode),
        ("options.tooltip.sort", common.SortOrder),
    ],
    "stat": [
        ("options.colorMode", common.BigValueColorMode),
        ("options.graphMode", common.BigValueGraphMode),
        ("options.justifyMode", common.BigValueJustifyMode),
        ("options.textMode", common.BigValueTextMode),
        ("options.orientation", common.VizOrientation),
    ],
    "logs": [
        ("options.sortOrder", common.LogsSortOrder),
        ("options.dedupStrategy", common.LogsDedupStrategy),
    ],
}


def _at(doc: dict[str, Any], path: str) -> Any:
    value: Any = doc
    for key in path.split("."):
        value = value[key]
    return value


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.name)
def test_enumerated_options_take_values_the_model_allows(path: Path) -> None:
    """The SDK stores unknown enum strings as they are; check ours against its enums."""
    for panel in panels(load(path)):
        checks = _ENUM_FIELDS[panel["type"]]
        for field, allowed in checks:
            value = _at(panel, field)
            assert value in {m.value for m in allowed}, f"{panel['title']}: {field} = {value!r}"
        assert panel["fieldConfig"]["defaults"]["thresholds"]["mode"] in {m.value for m in sdk_dashboard.ThresholdsMode}
        for mapping in panel["fieldConfig"]["defaults"].get("mappings", []):
            assert mapping["type"] in {m.value for m in sdk_dashboard.MappingType}
