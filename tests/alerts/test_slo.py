"""The availability SLO: burn-rate thresholds from the settings, and the committed rules judged by
promtool against the constants a stack really renders (not hand-written input series)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.alerting import committed, rules, slo, stack_constants
from infra.settings import Settings
from testbed.settings import settings_of
from tests.support.alerts import promtool


def stack(**values: Any) -> Settings:
    return settings_of(values)


# The environment label every scraped series (and every per-stack constant) carries.
ENV = f'environment="{settings_of({}).environment}"'


def test_thresholds_are_the_workbooks_at_30_days_and_scale_with_the_window() -> None:
    at_30 = {p.long: round(p.threshold(30), 6) for p in slo.PAIRS}
    assert at_30 == {"1h": 14.4, "6h": 6.0, "1d": 3.0, "3d": 1.0}
    at_28 = {p.long: round(p.threshold(28), 6) for p in slo.PAIRS}
    assert at_28 == {"1h": 13.44, "6h": 5.6, "1d": 2.8, "3d": 0.933333}
    # Pages catch the fast burns, tickets the slow ones; short windows are a twelfth of the long one.
    assert [a.threshold.severity for a in slo.BURN_ALERTS] == ["critical", "warning"]
    for p in slo.PAIRS:
        assert slo.hours(p.short) * 12 == slo.hours(p.long)


def test_every_window_an_alert_reads_is_recorded() -> None:
    recorded = {r["record"] for r in slo.recording_rules()}
    for pair in slo.PAIRS:
        for window in (pair.long, pair.short):
            assert slo.burn_rate(window) in recorded
            assert slo.error_ratio(window) in recorded


def test_settings_refuse_a_retention_shorter_than_the_slo_window() -> None:
    with pytest.raises(ValueError, match=r"prometheusRetentionTime = '15d' is shorter than sloWindowDays = 28"):
        stack(prometheusRetentionTime="15d")
    assert stack(prometheusRetentionTime="4w").slo_window_days == 28


def slo_promtool_test(
    tmp_path: Path, constants: str, health: str, up: str, expr_tests: list[dict[str, Any]]
) -> subprocess.CompletedProcess[str]:
    """promtool on the SLO rules with a stack's constants: /health probe and gateway `up` series at 1m
    steps (each scraped series carries the stack's environment as a target label), then expr_tests."""
    (tmp_path / "slo.yml").write_text(committed.rule_file_text(rules.SLO_RULES))
    (tmp_path / "stack-constants.yml").write_text(constants)
    test = {
        "rule_files": ["slo.yml", "stack-constants.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": f'probe_success{{probe="health",slo="availability",{ENV}}}', "values": health},
                    {"series": f'up{{job="gateway",{ENV}}}', "values": up},
                ],
                "promql_expr_test": expr_tests,
            }
        ],
    }
    (tmp_path / "test.yml").write_text(yaml.safe_dump(test, width=1000))
    return promtool("test", "rules", "test.yml", cwd=tmp_path)


def outage_test(constants: str, tmp_path: Path, eval_minutes: int, firing: bool) -> subprocess.CompletedProcess[str]:
    """promtool: seven healthy hours, then /health fails for good at 420m; is the page firing at eval?"""
    alert = slo.PAGE.threshold.alert
    firing_alerts = f'count(ALERTS{{alertname="{alert}", alertstate="firing"}})'
    expected = [{"labels": "{}", "value": 1}] if firing else []
    check = {"expr": firing_alerts, "eval_time": f"{eval_minutes}m", "exp_samples": expected}
    return slo_promtool_test(tmp_path, constants, "1x419 0x60", "1x480", [check])


@pytest.mark.parametrize(
    ("settings", "quiet_at", "fires_at"),
    [
        # 99.5% over 28 days: 1h threshold 0.0672, passed at 424m (5 of 61 failed), `for` 2m.
        ({}, 425, 426),
        # 99% over 28 days: twice the budget, 0.1344, passed at 428m (9 of 61).
        ({"sloAvailabilityObjective": 99.0}, 429, 430),
        # 99.5% over 7 days: a quarter of the window, 0.0168, passed at 421m (2 of 61).
        ({"sloWindowDays": 7}, 422, 423),
    ],
    ids=["99.5%-28d", "99%-28d", "99.5%-7d"],
)
def test_the_page_fires_when_the_stacks_own_constants_say(
    settings: dict[str, Any], quiet_at: int, fires_at: int, tmp_path: Path
) -> None:
    expectations = ((quiet_at, False), (fires_at, True))
    constants = stack_constants.stack_constants(stack(**settings))
    for minutes, firing in expectations:
        result = outage_test(constants, tmp_path, minutes, firing)
        assert result.returncode == 0, f"{settings} at {minutes}m:\n{result.stdout}{result.stderr}"
    if settings:
        # The default stack's constants do not meet the same expectations: the constants decide.
        default = stack_constants.stack_constants(stack())
        assert any(outage_test(default, tmp_path, m, f).returncode != 0 for m, f in expectations)


def test_remaining_budget_rules_check_and_compute(tmp_path: Path) -> None:
    """The per-stack window rules: 99.5% over 28 days, one failed sample in 100 -> 2 x the budget spent
    over what exists so far, so the remaining budget is -1 (overspent)."""
    (tmp_path / "slo.yml").write_text(committed.rule_file_text(rules.SLO_RULES))
    (tmp_path / "stack-constants.yml").write_text(stack_constants.stack_constants(stack()))
    assert promtool("check", "rules", "stack-constants.yml", cwd=tmp_path).returncode == 0
    constants = yaml.safe_load((tmp_path / "stack-constants.yml").read_text())["groups"]
    test = {
        "rule_files": ["slo.yml", "stack-constants.yml"],
        "evaluation_interval": "1m",
        # The SLI group first: the window rules read what it records at the same evaluation time
        # (promtool's group order is otherwise not fixed, and the last sample decides the result).
        "group_eval_order": [rules.SLO_RULES.group, *(g["name"] for g in constants)],
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {
                        "series": f'probe_success{{probe="health",slo="availability",{ENV}}}',
                        "values": " ".join(["1x98 0"] * 3),
                    },
                    {"series": f'up{{job="gateway",{ENV}}}', "values": "1x299"},
                ],
                "promql_expr_test": [
                    {
                        "expr": f"round({slo.BUDGET_REMAINING}, 0.001)",
                        "eval_time": "299m",
                        "exp_samples": [{"labels": f"{{{ENV}}}", "value": -1.0}],
                    },
                    {
                        "expr": f"round({slo.ERROR_RATIO_SLO_WINDOW}, 0.0001)",
                        "eval_time": "299m",
                        "exp_samples": [{"labels": f"{{{ENV}}}", "value": 0.01}],
                    },
                ],
            }
        ],
    }
    (tmp_path / "test.yml").write_text(yaml.safe_dump(test, width=1000))
    result = promtool("test", "rules", "test.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_pair_fires_only_on_a_covered_long_window() -> None:
    """The guard against a young Prometheus (alerts/tests/slo_test.yml shows it in promtool): each pair
    of each tier ANDs its long window's coverage, and that coverage is recorded from the SLI itself."""
    recorded = {r["record"]: r["expr"] for r in slo.recording_rules()}
    for alert in slo.BURN_ALERTS:
        parts = slo.alert_expr(alert).split("\nor\n")
        assert len(parts) == len(alert.pairs)
        for part, pair in zip(parts, alert.pairs, strict=True):
            assert f"and\n  {slo.coverage(pair.long)} >= {slo.COVERAGE_MIN:g}\n" in part
            expr = recorded[slo.coverage(pair.long)]
            assert f"count_over_time({slo.GOOD}[{pair.long}])" in expr
            assert f"count_over_time({slo.GOOD}[{pair.short}]) * 12" in expr
    # At most a quarter overstated, and a whole window at one sample a minute (61/72 on Prometheus 2) passes.
    assert 61 / 72 >= slo.COVERAGE_MIN >= 0.75


def test_a_short_outage_on_a_young_prometheus_fires_nothing_with_the_stacks_constants(tmp_path: Path) -> None:
    """Prometheus 30 minutes old, the gateway down 30m..35m: over what exists that is 16% of every
    window, far past every threshold; with the rendered constants of the default stack neither
    tier fires at any minute of the following hours."""
    firing = 'count(ALERTS{alertname=~"ErrorBudgetBurn.*"})'
    checks = [{"expr": firing, "eval_time": f"{m}m", "exp_samples": []} for m in range(36, 300, 4)]
    result = slo_promtool_test(tmp_path, stack_constants.stack_constants(stack()), "1x29 0x5 1x300", "1x335", checks)
    assert result.returncode == 0, result.stdout + result.stderr
