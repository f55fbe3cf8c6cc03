"""What the dashboards show: every catalog metric, alert thresholds from one source, runbooks,
panels that cannot have data say why, and every PromQL expression parses (promtool)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.alerting import recording, rules, stack_constants, thresholds
from infra.backup import metrics as backup_metrics
from infra.dashboards import gateway, links, scope, stack
from infra.dashboards.datasources import LOKI, PROMETHEUS
from infra.dashboards.files import DASHBOARDS
from infra.dashboards.model import Dashboard, not_exposed, substitute
from infra.metrics import exporters
from infra.metrics.catalog import METRICS, NAMES, by_name, metric_names_in_promql
from testbed.paths import REPO_ROOT

ALL_PANELS = [(d, p) for d in DASHBOARDS.values() for p in d.panels()]
# Values the live test also uses for the template variables.
SAMPLE_VARIABLES = {
    "environment": "test",
    "instance": "127.0.0.1:9",
    "__rate_interval": "1m",
    **scope.EVERY_STACK,
}


def committed_panel(dashboard: Dashboard, title: str) -> dict[str, Any]:
    doc = json.loads((REPO_ROOT / "dashboards" / f"{dashboard.uid.removeprefix('friday-')}.json").read_text())
    [found] = [p for p in doc["panels"] if p["title"] == title and p["type"] != "row"]
    return dict(found)


def gateway_metric_names() -> set[str]:
    names: set[str] = set()
    for _, query in gateway.DASHBOARD.queries():
        if query.datasource is PROMETHEUS:
            names |= metric_names_in_promql(recording.expand(query.expr))
    return names


def test_every_catalog_metric_is_on_the_gateway_dashboard() -> None:
    missing = NAMES - gateway_metric_names()
    assert not missing, f"catalog metrics on no panel: {sorted(missing)}"


def test_gateway_dashboard_uses_only_catalog_metrics() -> None:
    unknown = gateway_metric_names() - NAMES
    assert not unknown, f"not in infra/metrics/catalog.py: {sorted(unknown)}"


def test_panel_titles_unique_per_dashboard() -> None:
    for dashboard in DASHBOARDS.values():
        titles = [p.title for p in dashboard.panels()]
        assert len(set(titles)) == len(titles)


def test_panels_missing_seed_metrics_are_exactly_those_using_them() -> None:
    """A panel is marked 'not exposed' iff one of its queries needs a metric 0.1.0 lacks."""
    for _, panel in ALL_PANELS:
        needed = set().union(*(metric_names_in_promql(recording.expand(q.expr)) for q in panel.queries))
        lacking = {n for n in needed if n in NAMES and not by_name(n).exposed_by_gateway}
        # The memory limit falls back to the recording rule, so the panel still has data.
        lacking.discard("friday_memory_limit_mb")
        marked = panel.no_data is not None and panel.no_data.kind == "not-exposed"
        assert marked == bool(lacking), f"{panel.title}: needs {sorted(lacking)}, marked {panel.no_data}"
        if marked:
            for name in lacking:
                assert name in panel.full_description()


def test_not_exposed_refuses_a_metric_the_gateway_has() -> None:
    with pytest.raises(ValueError, match="friday_cpu_percent is exposed"):
        not_exposed("friday_cpu_percent")
    with pytest.raises(KeyError, match="not in the catalog"):
        not_exposed("friday_made_up_total")


def test_every_panel_without_data_says_why_in_its_description() -> None:
    for dashboard, panel in ALL_PANELS:
        description = committed_panel(dashboard, panel.title)["description"]
        assert description == panel.full_description()
        if panel.no_data:
            assert description.endswith(panel.no_data.reason)


def test_logs_panel_shows_gateway_warnings_and_errors_from_loki() -> None:
    [logs] = [p for p in gateway.DASHBOARD.panels() if p.kind == "logs"]
    [query] = logs.queries
    assert query.datasource is LOKI
    assert query.expr == '{service="gateway", level=~"warn|error|fatal"}'
    assert logs.no_data is not None and "Loki" in logs.no_data.reason
    committed = committed_panel(gateway.DASHBOARD, logs.title)
    assert committed["type"] == "logs"
    assert committed["targets"][0]["expr"] == query.expr


def steps_of(panel_json: dict[str, Any]) -> list[tuple[float | None, str]]:
    steps = panel_json["fieldConfig"]["defaults"]["thresholds"]["steps"]
    return [(s["value"], s["color"]) for s in steps]


@pytest.mark.parametrize(
    ("title", "threshold", "bad_side"),
    [
        ("Queue depth and running tasks", thresholds.HIGH_QUEUE_DEPTH, "above"),
        ("Queue depth", thresholds.HIGH_QUEUE_DEPTH, "above"),
        ("Task success rate", thresholds.HIGH_ERROR_RATE, "below"),
        ("Success rate", thresholds.HIGH_ERROR_RATE, "below"),
        ("Auth failure rate", thresholds.AUTH_BRUTE_FORCE, "above"),
        ("Memory of limit", thresholds.HIGH_MEMORY_USAGE, "above"),
        ("Audit chain", thresholds.AUDIT_CHAIN_BROKEN, "below"),
    ],
)
def test_drawn_thresholds_are_the_alert_thresholds(title: str, threshold: thresholds.Threshold, bad_side: str) -> None:
    panels = [p for p in gateway.DASHBOARD.panels() if p.title == title]
    assert panels
    for panel in panels:
        assert threshold in panel.alerts
        steps = steps_of(committed_panel(gateway.DASHBOARD, title))
        if threshold is thresholds.AUDIT_CHAIN_BROKEN:
            # Broken means == 0: anything below 1 is red.
            assert steps == [(None, "red"), (1, "green")]
            continue
        critical = [c for w, c in thresholds.TIERED if w is threshold]
        if critical:
            # Two tiers: orange from the warning, red from the critical threshold.
            expected = [(None, "green"), (threshold.value, "orange"), (critical[0].value, "red")]
        else:
            expected = (
                [(None, "green"), (threshold.value, "red")]
                if bad_side == "above"
                else [(None, "red"), (threshold.value, "green")]
            )
        assert steps == expected
    timeseries = committed_panel(gateway.DASHBOARD, "Queue depth and running tasks")
    assert timeseries["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"] == {"mode": "dashed"}


def test_memory_panel_draws_the_limit_and_the_alert_line() -> None:
    [panel] = [p for p in gateway.DASHBOARD.panels() if p.title == "Memory used and limit"]
    exprs = [q.expr for q in panel.queries]
    assert any(e == gateway.LIMIT_MB for e in exprs)
    assert f"{gateway.LIMIT_MB} * {thresholds.HIGH_MEMORY_USAGE.value:g}" in exprs
    assert f"{gateway.LIMIT_MB} * {thresholds.HIGH_MEMORY_USAGE_CRITICAL.value:g}" in exprs
    assert "friday:memory_limit_mb" in gateway.LIMIT_MB


# Alerts no panel shows: the Watchdog always fires and watches the alerting path itself.
ALERTS_WITHOUT_PANEL = {thresholds.WATCHDOG.alert}


def test_panels_link_the_runbook_of_every_alert_that_watches_them() -> None:
    alerts_with_panels = set()
    for dashboard, panel in ALL_PANELS:
        committed = committed_panel(dashboard, panel.title)
        assert committed["links"] == [links.runbook_link(a) for a in panel.alerts], panel.title
        for alert, link in zip(panel.alerts, committed["links"], strict=True):
            alerts_with_panels.add(alert.alert)
            # The same address as the alert's own runbook_url annotation.
            # The rule of this tier (an alertname may have a warning and a critical rule).
            [rule] = [r for r in rules.ALERTS if r.threshold is alert]
            assert link["url"] == rule.as_rule()["annotations"]["runbook_url"]
            assert link["url"].split("#")[0].endswith("docs/troubleshooting.md")
    every_alert = {r.name for r in rules.ALERTS}
    assert alerts_with_panels == every_alert - ALERTS_WITHOUT_PANEL


def test_every_dashboard_uses_only_metrics_our_exporters_have() -> None:
    for dashboard in DASHBOARDS.values():
        for panel, query in dashboard.queries():
            if query.datasource is PROMETHEUS:
                unknown = exporters.unknown_metrics(recording.expand(query.expr))
                assert not unknown, f"{dashboard.uid} / {panel.title}: {query.expr}"


def test_cost_panel_draws_the_daily_budget() -> None:
    [panel] = [p for p in gateway.DASHBOARD.panels() if p.title == "Cost today"]
    exprs = [q.expr for q in panel.queries]
    assert f"{gateway.BUDGET_USD} * {thresholds.DAILY_COST_OVER_BUDGET.value:g}" in exprs
    assert stack_constants.COST_BUDGET_USD_DAILY in gateway.BUDGET_USD
    assert thresholds.DAILY_COST_OVER_BUDGET in panel.alerts


def test_backup_panels_show_age_limit_and_count() -> None:
    panels = {p.title: p for p in stack.DASHBOARD.panels()}
    age = panels["Backup age and BackupStale limit"]
    exprs = [q.expr for q in age.queries]
    assert exprs == [stack.BACKUP_AGE, f"{stack.BACKUP_LIMIT} * {thresholds.BACKUP_STALE.value:g}"]
    assert stack_constants.BACKUP_STALE_AFTER_SECONDS in stack.BACKUP_LIMIT
    assert backup_metrics.LAST_SUCCESS in stack.BACKUP_AGE
    assert age.alerts == panels["Newest backup age"].alerts == (thresholds.BACKUP_STALE,)
    assert backup_metrics.KEPT in panels["Backups kept"].queries[0].expr


def test_windows_drawn_are_the_alerts_windows() -> None:
    auth = next(p for p in gateway.DASHBOARD.panels() if p.title == "Auth failure rate")
    assert f"[{thresholds.AUTH_BRUTE_FORCE.window}]" in recording.expand(auth.queries[0].expr)
    ratio = next(p for p in gateway.DASHBOARD.panels() if p.title == "API error ratio")
    assert recording.expand(ratio.queries[0].expr).count(f"[{thresholds.API_ERROR_RATIO.window}]") == 2
    for alert in (thresholds.AUTH_BRUTE_FORCE, thresholds.API_ERROR_RATIO):
        [rule] = [r for r in rules.ALERTS if r.name == alert.alert]
        assert f"[{alert.window}]" in rule.expr


def test_no_runbook_url_is_written_outside_the_constant() -> None:
    for path in (REPO_ROOT / "infra").rglob("*.py"):
        if path.name != "runbooks.py":
            assert "troubleshooting.md#" not in path.read_text(), path


def test_substitute_replaces_every_variable_and_refuses_unknown_ones() -> None:
    assert substitute('x{a=~"$environment"}[${__rate_interval}]', SAMPLE_VARIABLES) == 'x{a=~"test"}[1m]'
    with pytest.raises(KeyError, match=r"\$nope"):
        substitute("up{x=~'$nope'}", SAMPLE_VARIABLES)


def test_every_promql_expression_parses_with_promtool(tmp_path: Path) -> None:
    """promtool checks each expression (variables substituted) as a recording rule."""
    promtool = shutil.which("promtool")
    assert promtool, "promtool (Debian package prometheus) is required; scripts/bootstrap.sh installs it"
    rules = [
        {"record": f"dashboard:check_{i}", "expr": substitute(q.expr, SAMPLE_VARIABLES)}
        for i, (_, q) in enumerate((p, q) for d in DASHBOARDS.values() for p, q in d.queries())
        if q.datasource is PROMETHEUS
    ]
    assert len(rules) > 40
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = subprocess.run(
        [promtool, "check", "rules", str(path)], check=False, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout
    # And promtool does reject a broken one, so the check means something.
    path.write_text(yaml.safe_dump({"groups": [{"name": "x", "rules": [{"record": "a:b", "expr": "rate(x[5m]"}]}]}))
    broken = subprocess.run(
        [promtool, "check", "rules", str(path)], check=False, capture_output=True, text=True, timeout=60
    )
    assert broken.returncode != 0


def test_stack_dashboard_covers_each_monitoring_service() -> None:
    exprs = " ".join(recording.expand(q.expr) for _, q in stack.DASHBOARD.queries())
    for needle in (
        "up{",
        "prometheus_tsdb_head_samples_appended_total",
        "prometheus_rule_evaluations_total",
        "alertmanager_notifications_total",
        "prometheus_notifications_sent_total",
        "loki_distributor_lines_received_total",
        "alloy_component_controller_running_components",
        backup_metrics.LAST_SUCCESS,
        backup_metrics.KEPT,
    ):
        assert needle in exprs, needle


def test_catalog_is_the_source_of_metric_help() -> None:
    # Every seed-only metric has a panel that names it in its description (users see why it is empty).
    descriptions = " ".join(p.full_description() for p in gateway.DASHBOARD.panels())
    for metric in METRICS:
        if not metric.exposed_by_gateway and metric.name != "friday_memory_limit_mb":
            assert metric.name in descriptions, metric.name


def test_tasks_by_status_is_documented_as_empty_until_the_first_task() -> None:
    """An idle gateway (the double as started: the real exposition's values) has no sample of
    friday_tasks_by_status, so the reference must not promise data there."""
    from infra.dashboards import gateway as gateway_dashboard
    from infra.dashboards.reference import table
    from testbed.exposition import MetricValues

    idle = MetricValues().render()
    assert "\nfriday_tasks_by_status{" not in idle and "# TYPE friday_tasks_by_status" in idle
    [row] = [line for line in table(gateway_dashboard.DASHBOARD) if "| Tasks by status |" in line]
    assert row.endswith("| no: empty on an idle gateway 0.1.0 |")
    [panel] = [p for p in gateway_dashboard.DASHBOARD.panels() if p.title == "Tasks by status"]
    assert "until the first task exists" in panel.full_description()


def test_idle_gateway_refuses_a_metric_the_gateway_lacks() -> None:
    from infra.dashboards.model import idle_gateway

    with pytest.raises(ValueError, match="friday_cost_usd_month is not exposed"):
        idle_gateway("friday_cost_usd_month", "never")


def test_notification_panel_says_it_is_empty_without_receivers() -> None:
    from infra.dashboards import stack as stack_dashboard
    from infra.dashboards.reference import table

    [row] = [line for line in table(stack_dashboard.DASHBOARD) if "| Alertmanager notifications |" in line]
    assert row.endswith(
        "on a deployment only once a receiver is configured (friday:alertReceivers) and has been notified |"
    )
