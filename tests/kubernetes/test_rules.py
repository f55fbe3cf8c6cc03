"""The PrometheusRule: promtool check rules, the unit tests of alerts/ in the stack's namespace,
the Kubernetes BackupStale, and namespace scoping."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.dashboards import scope as dashboard_scope
from infra.settings import Settings
from infra.targets.kubernetes_map import monitoring
from infra.targets.kubernetes_map.rules import scope
from testbed.paths import REPO_ROOT
from testbed.settings import settings_of
from tests.support import alerts as alerts_support
from tests.support.kubernetes import KUBE_BASE, variant_settings

HERE = Path(__file__).parent / "promtool"
NS = "friday-test"
CONSTANTS_GROUP = "friday-stack-constants"


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return alerts_support.promtool(*args, cwd=cwd)


def write_rules(root: Path, *, constants: bool = False, variant: str = "minimal") -> Path:
    """The PrometheusRule's groups as a rule file. Unit tests give the stack constants as input
    series (as alerts/tests does), so they leave the constants group out."""
    rule = monitoring.prometheus_rule(variant_settings(variant))
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


@pytest.mark.parametrize(
    ("test_file", "alerts"),
    [
        ("gateway_test.yml", None),
        ("monitoring_test.yml", {"Watchdog"}),
        ("probes_test.yml", None),
        ("slo_test.yml", None),
    ],
)
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


def test_backup_offsite_stale_on_kubernetes(tmp_path: Path) -> None:
    """With off-host copies on (the full variant) the copy is a CronJob of its own; BackupOffsiteStale reads
    its kube-state-metrics series. Without them (minimal) there is no such rule."""
    write_rules(tmp_path, variant="full")
    shutil.copy(HERE / "backups_offsite_kubernetes_test.yml", tmp_path)
    done = promtool("test", "rules", "backups_offsite_kubernetes_test.yml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    off = monitoring.prometheus_rule(variant_settings("minimal"))["spec"]["groups"]
    assert "BackupOffsiteStale" not in {r.get("alert") for g in off for r in g["rules"]}


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


def _shipped(settings: Settings) -> dict[str, dict[str, Any]]:
    maps = monitoring.dashboard_config_maps(settings)
    for cm in maps:
        assert cm["metadata"]["labels"][monitoring.DASHBOARD_LABEL] == "1"
        assert len(yaml.safe_dump(cm).encode()) < monitoring.MAX_OBJECT_BYTES
    return {k: json.loads(v) for cm in maps for k, v in cm["data"].items()}


def test_dashboards_are_the_committed_json_but_for_the_stacks_uid_title_and_namespaces() -> None:
    settings = variant_settings("minimal")
    shipped = _shipped(settings)
    on_disk = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in (REPO_ROOT / "dashboards").glob("*.json")}
    assert set(shipped) == {f"{NS}-{name}" for name in on_disk}
    for name, committed in on_disk.items():
        ours = shipped[f"{NS}-{name}"]
        assert ours["uid"].startswith(committed["uid"] + "-") and len(ours["uid"]) <= 40
        assert ours["title"] == f"{committed['title']} ({NS})"
        # Its panels select the stack's series (infra/dashboards/scope.py; test_dashboards_per_stack.py).
        namespaces = {dashboard_scope.STACK: NS, dashboard_scope.MONITORING: settings.kubernetes_monitoring_namespace}
        assert dashboard_scope.values(ours) == namespaces
        narrowed = dashboard_scope.narrowed(
            json.loads(json.dumps(committed)), NS, settings.kubernetes_monitoring_namespace
        )
        assert {**ours, "uid": committed["uid"], "title": committed["title"]} == narrowed


def test_two_stacks_in_one_cluster_do_not_overwrite_each_others_dashboards() -> None:
    """Grafana's sidecar writes every ConfigMap key of every namespace into one folder, and
    Grafana keys dashboards by uid and by title within a folder: all three differ per stack."""
    one = _shipped(variant_settings("minimal"))
    other = _shipped(settings_of({**KUBE_BASE, "kubernetesNamespace": "friday-other"}, frozenset({"anthropicApiKey"})))
    assert not set(one) & set(other)
    assert not {d["uid"] for d in one.values()} & {d["uid"] for d in other.values()}
    assert not {d["title"] for d in one.values()} & {d["title"] for d in other.values()}


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


def test_the_slo_of_this_namespace_ignores_other_stacks(tmp_path: Path) -> None:
    """The SLI is per namespace: another stack's failing probe burns none of this budget, and the
    error ratio is recorded with this namespace (a `min by (environment)` would drop it)."""
    write_rules(tmp_path)
    budget = [
        {"series": f'friday:slo_availability:{name}{{namespace="{NS}"}}', "values": f"{value}x120"}
        for name, value in (
            ("error_budget", 0.005),
            ("burn_threshold_1h", 13.44),
            ("burn_threshold_6h", 5.6),
            ("burn_threshold_1d", 2.8),
            ("burn_threshold_3d", 0.933333),
        )
    ]
    test = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": 'probe_success{probe="health",slo="availability",namespace="other"}', "values": "0x120"},
                    {
                        "series": f'probe_success{{probe="health",slo="availability",namespace="{NS}"}}',
                        "values": "1x120",
                    },
                    {"series": f'up{{job="gateway",namespace="{NS}"}}', "values": "1x120"},
                    *budget,
                ],
                "promql_expr_test": [
                    {
                        "expr": "friday:slo_availability:error_ratio_1h",
                        "eval_time": "60m",
                        "exp_samples": [
                            {"labels": f'friday:slo_availability:error_ratio_1h{{namespace="{NS}"}}', "value": 0}
                        ],
                    }
                ],
                "alert_rule_test": [
                    {"eval_time": "60m", "alertname": name, "exp_alerts": []}
                    for name in ("ErrorBudgetBurnFast", "ProbeFailing")
                ],
            }
        ],
    }
    (tmp_path / "slo_ns_test.yml").write_text(yaml.safe_dump(test), encoding="utf-8")
    done = promtool("test", "rules", "slo_ns_test.yml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-4000:]


def test_the_dashboards_recordings_come_along_scoped_to_the_namespace() -> None:
    """The dashboards read alerts/dashboards.yml's recordings: without them the cluster's Grafana
    would draw empty graphs. Each reads the namespace its series come from: the gateway's and the
    scrape targets' this stack's, the monitoring components' (Prometheus, Alertmanager, Loki, Alloy)
    the monitoring namespace where they run; each records this stack's namespace."""
    from infra.alerting import recording

    settings = variant_settings("install")
    mon = settings.kubernetes_monitoring_namespace
    assert mon != NS
    groups = monitoring.prometheus_rule(settings)["spec"]["groups"]
    [group] = [g for g in groups if g["name"] == recording.GROUP]
    assert group["interval"] == recording.INTERVAL
    assert [r["record"] for r in group["rules"]] == [r.record for r in recording.RULES]
    component = 0
    for rule in group["rules"]:
        assert rule["labels"] == {"namespace": NS}
        selectors = re.findall(
            r"\b((?:friday|process|prometheus|alertmanager|loki|alloy|scrape)_\w+)(\{[^}]*\})?", rule["expr"]
        )
        assert selectors, rule["expr"]
        reads_components = any(re.match(r"(prometheus|alertmanager|loki|alloy)_", m) for m, _ in selectors)
        component += reads_components
        want = mon if reads_components else NS
        assert all(f'namespace="{want}"' in s for _, s in selectors), rule["expr"]
    # The stack dashboard's Prometheus, Alertmanager, Loki and Alloy panels read these.
    assert component >= 15
