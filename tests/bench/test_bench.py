"""`make bench` works: its quick mode runs end to end and its table is sound; Grafana's
interval arithmetic as the bench reproduces it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench import grafana
from infra.dashboards.files import DASHBOARDS
from testbed.paths import REPO_ROOT

QUICK_TIMEOUT_S = 900


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench")
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=QUICK_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    results: dict[str, Any] = json.loads((out / "results.json").read_text())
    results["table"] = (out / "table.md").read_text()
    results["stdout"] = result.stdout
    return results


def test_every_dashboard_query_is_answered_for_every_range_and_setting(quick: dict[str, Any]) -> None:
    committed = grafana.committed(REPO_ROOT)
    seen = {(r["dashboard"], r["range"], r["gateways"]) for r in quick["refreshes"]}
    assert seen == {(d, rng, n) for d in committed for rng in ("24h", "7d", "30d") for n in quick["gateways"]}
    for refresh in quick["refreshes"]:
        # Discovered from the committed JSON: every Prometheus target of every panel.
        assert len(refresh["queries"]) == len(committed[refresh["dashboard"]]) > 10
        errors = [(q["panel"], q["error"]) for q in refresh["queries"] if q["error"]]
        assert errors == [], errors
        assert refresh["median_ms"] > 0


def test_panels_have_data_except_the_seed_metrics_gateway_0_1_0_lacks(quick: dict[str, Any]) -> None:
    """The synthetic data has what the real gateway and every stack service expose, the dashboards'
    recordings and the stack constants; not the SLO's recordings (alerts/slo.yml: windows up to
    days, chained rules, which promtool's rule backfill cannot evaluate)."""
    may_be_empty = {
        (stem, p.title)
        for stem, d in DASHBOARDS.items()
        for p in d.panels()
        if (p.no_data and p.no_data.kind == "not-exposed") or any("friday:slo_" in q.expr for q in p.queries)
    }
    assert may_be_empty
    for refresh in quick["refreshes"]:
        if refresh["range"] != "24h":
            continue
        empty = {(refresh["dashboard"], q["panel"]) for q in refresh["queries"] if q["series"] == 0}
        assert empty <= may_be_empty, empty - may_be_empty


def test_stat_panels_run_instant_queries(quick: dict[str, Any]) -> None:
    stats = {(stem, p.title) for stem, d in DASHBOARDS.items() for p in d.panels() if p.kind == "stat"}
    for refresh in quick["refreshes"]:
        for q in refresh["queries"]:
            assert q["instant"] == ((refresh["dashboard"], q["panel"]) in stats), q["panel"]


def test_tsdb_figures_are_plausible(quick: dict[str, Any]) -> None:
    small, large = (quick["tsdb"][str(n)] for n in quick["gateways"])
    for tsdb in (small, large):
        # Raw samples plus the recorded ones; compressed to a few bytes each.
        assert tsdb["samples"] > tsdb["samples_written"] > 0
        assert 0.5 < tsdb["bytes"] / tsdb["samples"] < 10
    assert large["series"] > small["series"] and large["bytes"] > small["bytes"]


def test_commands_and_alert_latency_are_measured(quick: dict[str, Any]) -> None:
    commands = {c["name"]: c for c in quick["commands"]}
    for name in ("render --stack dev", "check --stack dev", "check --stack prod", "Pulumi program, dev, under mocks"):
        assert commands[name]["ok"], commands[name]
        assert 0 < commands[name]["seconds"] < 60 and commands[name]["peak_mib"] > 10
    [test_intervals] = quick["alert_latency"]
    # for (5 s) + group_wait (1 s) is the least possible; the floor adds a scrape and an evaluation.
    assert 6 <= test_intervals["median_s"] < test_intervals["floor_s"] + 10


def test_table_has_every_part(quick: dict[str, Any]) -> None:
    table = quick["table"]
    assert table.strip() == quick["stdout"].strip()
    for needle in (
        "| gateway | 30d |",
        "| stack | 24h |",
        "Five slowest queries",
        "bytes a sample",
        "disk per gateway instance per day",
        "`render --stack dev`",
        "alert detection latency",
        "| target | measured | limit | holds |",
    ):
        assert needle in table, needle
    assert {t["what"].split(" ")[0] for t in quick["targets"]} >= {"gateway", "stack", "render", "check", "Pulumi"}


def test_interval_follows_grafana() -> None:
    day = 86_400
    stat = grafana.Target("d", "p", "A", "up", True, 100, grafana.SCRAPE_INTERVAL_MS)
    series = grafana.Target("d", "p", "A", 'rate(x{e=~"$environment"}[$__rate_interval])', False, 100, 15_000)
    recorded = grafana.Target("d", "p", "A", "a:b:c", False, 100, 60_000)
    # 30 d / 100 points = 7.2 h: Grafana's ladder rounds to 6 h.
    req = grafana.request(series, 30 * day, 30 * day)
    assert req.params["step"] == "21600"
    assert req.params["query"] == 'rate(x{e=~".*"}[21615s])'
    assert float(req.params["start"]) % 21600 == 0 and float(req.params["end"]) % 21600 == 0
    # 1 h / 100 = 36 s -> 30 s; $__rate_interval never below 4 scrape intervals.
    assert grafana.request(series, 10 * day, 3600).params["query"].endswith("[1m])")
    # A min interval wins over a finer computed one.
    assert grafana.request(recorded, 10 * day, 3600).params["step"] == "60"
    instant = grafana.request(stat, 10 * day, 30 * day)
    assert instant.path == "/api/v1/query" and instant.params == {"query": "up", "time": str(10 * day)}


def test_round_interval_ladder() -> None:
    assert grafana.round_interval(864_000) == 900_000
    assert grafana.round_interval(25_920_000) == 21_600_000
    assert grafana.round_interval(6_048_000) == 7_200_000
    assert grafana.round_interval(4_000_000_000) == grafana.YEAR_MS


def test_duration_parsing_refuses_what_grafana_would_not_read() -> None:
    assert grafana.duration_ms("1m") == 60_000
    with pytest.raises(ValueError, match="not a Grafana interval"):
        grafana.duration_ms("1 minute")


def test_the_committed_dashboards_are_what_the_bench_queries(tmp_path: Path) -> None:
    assert set(grafana.committed(REPO_ROOT)) == set(DASHBOARDS)
