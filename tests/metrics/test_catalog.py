"""The metric catalog against its two sources: the real scrape (tests/fixtures) and the specification's
list (docs/gateway.md)."""

from __future__ import annotations

import dataclasses
import re

import pytest

from infra.metrics import catalog
from infra.metrics.catalog import (
    METRICS,
    NAMES,
    by_name,
    exposed,
    metric_names_in_promql,
)
from testbed.paths import GATEWAY_METRICS_FIXTURE, REPO_ROOT

FIXTURE = GATEWAY_METRICS_FIXTURE
GATEWAY_MD = REPO_ROOT / "docs" / "gateway.md"
SPEC_SECTION = "## Metrics against the specification"


def fixture_families() -> dict[str, tuple[str, str]]:
    """name -> (type, help) from the HELP/TYPE lines, in exposition order."""
    helps: dict[str, str] = {}
    types: dict[str, str] = {}
    for line in FIXTURE.read_text(encoding="utf-8").splitlines():
        if m := re.fullmatch(r"# HELP (\S+) (.*)", line):
            helps[m[1]] = m[2]
        elif m := re.fullmatch(r"# TYPE (\S+) (\S+)", line):
            types[m[1]] = m[2]
    assert helps.keys() == types.keys()
    return {name: (types[name], helps[name]) for name in helps}


def seed_metrics() -> dict[str, tuple[str, str]]:
    """name -> (type, help) from the specification's table in docs/gateway.md."""
    text = GATEWAY_MD.read_text(encoding="utf-8")
    start = text.index(SPEC_SECTION)
    section = text[start : text.index("\n## ", start + 1)]
    rows = re.findall(r"^\| `([a-z0-9_]+)` \| (counter|gauge) \| ([^|]+?) \|$", section, re.MULTILINE)
    return {name: (type_, help_) for name, type_, help_ in rows}


def gateway_md_list(after: str) -> set[str]:
    """The backticked names in gateway.md's sentence that starts with ``after``."""
    text = GATEWAY_MD.read_text(encoding="utf-8")
    start = text.index(after) + len(after)
    sentence = text[start : text.index(".", start)]  # metric names contain no dots
    return set(re.findall(r"`([a-z0-9_]+)`", sentence))


def test_sources_parse_to_plausible_sizes() -> None:
    # Guards the parsers above: a regex that silently matches nothing would make the other
    # tests pass vacuously.
    assert len(fixture_families()) == 22
    assert len(seed_metrics()) == 23


def test_every_fixture_family_is_catalogued_as_exposed() -> None:
    for name, (type_, help_) in fixture_families().items():
        metric = by_name(name)
        assert metric.exposed_by_gateway, name
        assert (metric.type, metric.help) == (type_, help_), name


def test_exposed_is_exactly_the_fixture_in_its_order() -> None:
    assert [m.name for m in exposed()] == list(fixture_families())


def test_every_seed_metric_is_catalogued_as_in_seed() -> None:
    seed = seed_metrics()
    for name in seed:
        assert by_name(name).in_seed, name
    assert {m.name for m in METRICS if m.in_seed} == set(seed)


def test_seed_only_metrics_use_the_seeds_type_and_help() -> None:
    for name, (type_, help_) in seed_metrics().items():
        metric = by_name(name)
        if not metric.exposed_by_gateway:
            assert (metric.type, metric.help) == (type_, help_), name


def test_catalog_is_the_union_of_both_sources() -> None:
    assert set(fixture_families()) | set(seed_metrics()) == NAMES
    assert len(METRICS) == len(NAMES) == 28


def test_seed_only_metrics_match_gateway_md() -> None:
    listed = gateway_md_list("Named by the specification but not exported by 0.1.0:")
    assert len(listed) == 6
    assert {m.name for m in METRICS if not m.exposed_by_gateway} == listed


def test_gateway_only_metrics_match_gateway_md() -> None:
    listed = gateway_md_list("Exported by 0.1.0 although the specification does not name them:")
    assert len(listed) == 5
    assert {m.name for m in METRICS if not m.in_seed} == listed


def test_tasks_total_is_a_gauge_with_a_note_about_the_seed() -> None:
    metric = by_name("friday_tasks_total")
    assert metric.type == "gauge"
    assert seed_metrics()["friday_tasks_total"][0] == "counter"
    assert "counter" in metric.note


def test_labels() -> None:
    assert by_name("friday_tasks_duration_ms").labels == ("quantile",)
    assert by_name("friday_tasks_duration_ms").type == "summary"
    assert by_name("friday_tasks_by_status").labels == ("status",)
    labelled = {"friday_tasks_duration_ms", "friday_tasks_by_status"}
    assert all(m.labels == () for m in METRICS if m.name not in labelled)
    # Every label the fixture's samples carry is declared.
    for name, labels in re.findall(r"^(\w+)\{([^}]*)\}", FIXTURE.read_text(), re.MULTILINE):
        keys = tuple(re.findall(r'(\w+)="', labels))
        assert set(keys) <= set(by_name(name).labels), name


def test_by_name_unknown_raises_key_error_naming_the_metric() -> None:
    with pytest.raises(KeyError, match=r"friday_nope.*not in the catalog"):
        by_name("friday_nope")


def test_metric_is_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        METRICS[0].name = "x"  # type: ignore[misc]


# --- metric_names_in_promql -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ("friday_tasks_success_rate < 0.9", {"friday_tasks_success_rate"}),
        ("friday_memory_used_mb / friday_memory_limit_mb > 0.85", {"friday_memory_used_mb", "friday_memory_limit_mb"}),
        # function names and range durations are not metrics
        ("rate(friday_auth_failures_total[5m]) > 1", {"friday_auth_failures_total"}),
        ("absent(friday_audit_chain_valid)", {"friday_audit_chain_valid"}),
        ("sum by (status) (friday_tasks_by_status)", {"friday_tasks_by_status"}),
        # label names and label values are ignored, even when they look like metric names
        ('friday_tasks_by_status{status="failed", job="friday_gateway"}', {"friday_tasks_by_status"}),
        ("sum without (friday_label) (process_rss_bytes)", {"process_rss_bytes"}),
        ("friday_a * on (instance) group_left (friday_b) friday_c", {"friday_a", "friday_c"}),
        # suffixes are kept, so a series the gateway lacks stays visible
        ("friday_tasks_duration_ms_count", {"friday_tasks_duration_ms_count"}),
        # recording-rule names and parts of longer identifiers are not reported
        ("job:friday_api_calls:rate5m > 0", set()),
        ("my_friday_metric + up", set()),
        # comments and Grafana variables
        ("friday_cpu_percent # friday_in_comment\n", {"friday_cpu_percent"}),
        ("rate(friday_api_errors_total[$__rate_interval])", {"friday_api_errors_total"}),
        ("increase(friday_api_calls_total[${range}]) offset 1h", {"friday_api_calls_total"}),
        # typos are reported as they are, to be caught against the catalog
        ("friday_Tasks_total", {"friday_Tasks_total"}),
        ("", set()),
    ],
)
def test_metric_names_in_promql(expr: str, names: set[str]) -> None:
    assert metric_names_in_promql(expr) == names


def test_seed_alert_expressions_use_only_catalogued_names() -> None:
    text = GATEWAY_MD.read_text(encoding="utf-8")
    exprs = re.findall(r"`expr: ([^`]+)`", text[text.index(SPEC_SECTION) :])
    assert len(exprs) == 5
    used = set().union(*(metric_names_in_promql(e) for e in exprs))
    assert used == {
        "friday_tasks_success_rate",
        "friday_memory_used_mb",
        "friday_memory_limit_mb",
        "friday_auth_failures_total",
        "friday_audit_chain_valid",
        "friday_tasks_queue_depth",
    }
    assert used <= NAMES


def test_extractor_prefixes_cover_the_whole_catalog() -> None:
    # The extractor only knows the friday_/process_ prefixes; a catalog name outside them
    # would be invisible to the alert and dashboard checks, so this must fail first.
    assert catalog.metric_names_in_promql(" + ".join(sorted(NAMES))) == set(NAMES)
