"""The PrometheusRule: promtool check rules, the unit tests of alerts/ in the stack's namespace,
the Kubernetes BackupStale, and namespace scoping."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.targets.kubernetes_map import monitoring
from infra.targets.kubernetes_map.rules import scope
from tests.support.kubernetes import variant_settings
from tests.support.paths import REPO_ROOT

HERE = Path(__file__).parent / "promtool"
NS = "friday-test"
CONSTANTS_GROUP = "friday-stack-constants"


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["promtool", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def write_rules(root: Path, *, constants: bool = False) -> Path:
    """The PrometheusRule's groups as a rule file. Unit tests give the stack constants as input
    series (as alerts/tests does), so they leave the constants group out."""
    rule = monitoring.prometheus_rule(variant_settings("minimal"))
    assert rule["metadata"]["namespace"] == NS
    groups = [g for g in rule["spec"]["groups"] if constants or g["name"] != CONSTANTS_GROUP]
    path = root / "rules.yml"
    path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False), encoding="utf-8")
    return path


def test_promtool_checks_the_rule_groups(tmp_path: Path) -> None:
    done = promtool("check", "rules", str(write_rules(tmp_path, constants=True)), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def _in_namespace(series: str) -> str:
    match = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?", series)
    assert match, series
    inner = match.group(2)
    return f'{match.group(1)}{{{inner + "," if inner else ""}namespace="{NS}"}}'


def namespaced(test_file: dict[str, Any]) -> dict[str, Any]:
    """A unit-test file of alerts/ moved into the stack's namespace: every input series and every
    expected alert gets namespace="<ns>"; nothing else changes."""
    out = dict(test_file, rule_files=["rules.yml"])
    for test in out["tests"]:
        for series in test.get("input_series", []):
            series["series"] = _in_namespace(series["series"])
        for case in test.get("alert_rule_test", []):
            for alert in case.get("exp_alerts", []):
                alert["exp_labels"] = {**alert.get("exp_labels", {}), "namespace": NS}
    return out


def _only(test_file: dict[str, Any], alerts: set[str]) -> dict[str, Any]:
    tests = []
    for test in test_file["tests"]:
        cases = [c for c in test.get("alert_rule_test", []) if c["alertname"] in alerts]
        if cases:
            tests.append({**test, "alert_rule_test": cases})
    return {**test_file, "tests": tests}


@pytest.mark.parametrize(("test_file", "alerts"), [("gateway_test.yml", None), ("monitoring_test.yml", {"Watchdog"})])
def test_the_unit_tests_of_alerts_pass_in_the_namespace(
    tmp_path: Path, test_file: str, alerts: set[str] | None
) -> None:
    write_rules(tmp_path)
    original = yaml.safe_load((REPO_ROOT / "alerts" / "tests" / test_file).read_text(encoding="utf-8"))
    if alerts is not None:
        original = _only(original, alerts)
    assert original["tests"]
    (tmp_path / test_file).write_text(yaml.safe_dump(namespaced(original), sort_keys=False), encoding="utf-8")
    done = promtool("test", "rules", test_file, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def test_another_namespaces_gateway_does_not_alert_here(tmp_path: Path) -> None:
    write_rules(tmp_path)
    test = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": 'up{job="gateway",namespace="other"}', "values": "0x20"},
                    {"series": 'up{job="gateway",namespace="friday-test"}', "values": "1x20"},
                    {"series": 'friday_uptime_seconds{job="gateway",namespace="friday-test"}', "values": "1x20"},
                    {"series": 'friday_tasks_queue_depth{job="gateway",namespace="other"}', "values": "999x20"},
                ],
                "alert_rule_test": [
                    {"eval_time": "15m", "alertname": name, "exp_alerts": []}
                    for name in ("GatewayDown", "HighQueueDepth", "GatewayMetricsAbsent")
                ],
            }
        ],
    }
    (tmp_path / "other_test.yml").write_text(yaml.safe_dump(test), encoding="utf-8")
    done = promtool("test", "rules", "other_test.yml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-4000:]


def test_backup_stale_on_kubernetes(tmp_path: Path) -> None:
    write_rules(tmp_path)
    shutil.copy(HERE / "backups_kubernetes_test.yml", tmp_path)
    done = promtool("test", "rules", "backups_kubernetes_test.yml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def test_every_alert_carries_the_namespace_and_the_constants_too() -> None:
    groups = monitoring.prometheus_rule(variant_settings("minimal"))["spec"]["groups"]
    rules = [r for g in groups for r in g["rules"]]
    assert all(r["labels"]["namespace"] == NS for r in rules)
    assert not any("on() group_left()" in r["expr"] for r in rules)


@pytest.mark.parametrize(
    ("expr", "scoped"),
    [
        ("up == 0", 'up{namespace="ns"} == 0'),
        ('absent(up{job="gateway"})', 'absent(up{job="gateway",namespace="ns"})'),
        ("rate(x_total[5m]) > 1", 'rate(x_total{namespace="ns"}[5m]) > 1'),
        ("a / on() group_left() b:c", 'a{namespace="ns"} / on(namespace) group_left() b:c{namespace="ns"}'),
        ("a and on(job, instance) b", 'a{namespace="ns"} and on(job, instance) b{namespace="ns"}'),
        ("vector(1)", "vector(1)"),
        (
            "time() - max by (namespace) (a or b)",
            'time() - max by (namespace) (a{namespace="ns"} or b{namespace="ns"})',
        ),
    ],
)
def test_scope(expr: str, scoped: str) -> None:
    assert scope(expr, "ns") == scoped


def test_dashboards_are_exactly_the_committed_json_and_small_enough() -> None:
    maps = monitoring.dashboard_config_maps(variant_settings("minimal"))
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in (REPO_ROOT / "dashboards").glob("*.json")}
    shipped = {k: v for cm in maps for k, v in cm["data"].items()}
    assert shipped == on_disk
    for cm in maps:
        assert cm["metadata"]["labels"][monitoring.DASHBOARD_LABEL] == "1"
        assert len(yaml.safe_dump(cm).encode()) < monitoring.MAX_OBJECT_BYTES


def test_the_constants_are_recorded_per_namespace(tmp_path: Path) -> None:
    write_rules(tmp_path, constants=True)
    settings = variant_settings("minimal")
    test = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [],
                "promql_expr_test": [
                    {
                        "expr": "friday:memory_limit_mb",
                        "eval_time": "1m",
                        "exp_samples": [
                            {
                                # environment: the dashboards select the constants by it (issue 10).
                                "labels": "friday:memory_limit_mb"
                                f'{{environment="{settings.environment}", namespace="{NS}"}}',
                                "value": settings.gateway_memory_mb,
                            }
                        ],
                    }
                ],
            }
        ],
    }
    (tmp_path / "constants_test.yml").write_text(yaml.safe_dump(test), encoding="utf-8")
    done = promtool("test", "rules", "constants_test.yml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-4000:]


def test_the_dashboards_recordings_come_along_scoped_to_the_namespace() -> None:
    """The dashboards read alerts/dashboards.yml's recordings: without them the cluster's Grafana
    would draw empty graphs. Each reads only this namespace's series."""
    from infra.alerting import recording

    groups = monitoring.prometheus_rule(variant_settings("minimal"))["spec"]["groups"]
    [group] = [g for g in groups if g["name"] == recording.GROUP]
    assert group["interval"] == recording.INTERVAL
    assert [r["record"] for r in group["rules"]] == [r.record for r in recording.RULES]
    for rule in group["rules"]:
        selectors = re.findall(
            r"\b(?:friday|process|prometheus|alertmanager|loki|alloy|scrape)_\w+(\{[^}]*\})?", rule["expr"]
        )
        assert selectors and all(f'namespace="{NS}"' in s for s in selectors), rule["expr"]
