"""The alert rules: promtool checks and unit tests, catalog names, thresholds, runbooks."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.alerting import committed, recording, rules, slo, stack_constants, thresholds
from infra.alerting.runbooks import RUNBOOK_BASE_URL, github_anchor
from infra.backup.metrics import LAST_SUCCESS as BACKUP_LAST_SUCCESS
from infra.dashboards.files import DASHBOARDS
from infra.metrics import exporters
from infra.settings import load_stack
from testbed.paths import REPO_ROOT
from testbed.settings import settings_of
from tests.support.alerts import ALERTS_DIR, alert_rules, committed_rules, promtool

TESTS_DIR = ALERTS_DIR / "tests"
TROUBLESHOOTING = REPO_ROOT / rules.RUNBOOK_DOC


def test_rule_files_are_the_generated_ones() -> None:
    on_disk = {p.relative_to(REPO_ROOT).as_posix() for p in ALERTS_DIR.glob("*.yml")}
    assert on_disk == set(committed.committed_rule_files())
    for rel, text in committed.committed_rule_files().items():
        assert (REPO_ROOT / rel).read_text() == text, f"{rel} is stale: run `make generate`"


@pytest.mark.parametrize("path", sorted(ALERTS_DIR.glob("*.yml")), ids=lambda p: p.name)
def test_promtool_check_rules(path: Path) -> None:
    result = promtool("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_check_rules_on_a_stack_constants_file(tmp_path: Path) -> None:
    path = tmp_path / "stack-constants.yml"
    path.write_text(stack_constants.stack_constants(load_stack("prod")))
    result = promtool("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    loaded = yaml.safe_load(path.read_text())["groups"][0]["rules"]
    records = {r["record"]: r["expr"] for r in loaded}
    assert records == {
        stack_constants.MEMORY_LIMIT_MB: "vector(2048)",
        stack_constants.COST_BUDGET_USD_DAILY: "vector(25)",
        stack_constants.BACKUP_STALE_AFTER_SECONDS: "vector(46800)",
        # backupOffsiteStaleAfterHours 0: twice the 6 h interval plus one.
        stack_constants.BACKUP_OFFSITE_STALE_AFTER_SECONDS: "vector(46800)",
        stack_constants.GATEWAY_SCRAPE_TIMEOUT_SECONDS: "vector(10)",
        # 2048 MiB run out (modelled) at 537,500 audit entries, before a scrape takes 10 s (666,666).
        stack_constants.GATEWAY_AUDIT_CAPACITY: "vector(537500)",
        stack_constants.CERT_EXPIRY_WARNING_SECONDS: "vector(1814400)",
        stack_constants.CERT_EXPIRY_CRITICAL_SECONDS: "vector(604800)",
        # 99.5% over 28 days: the workbook's burn rates (14.4, 6, 3, 1 at 30 days) scaled to 28.
        slo.OBJECTIVE: "vector(0.995)",
        slo.ERROR_BUDGET: "vector(0.005)",
        slo.burn_threshold("1h"): "vector(13.44)",
        slo.burn_threshold("6h"): "vector(5.6)",
        slo.burn_threshold("1d"): "vector(2.8)",
        slo.burn_threshold("3d"): "vector(0.933333)",
    }
    window = yaml.safe_load(path.read_text())["groups"][1]
    assert {r["record"]: r["expr"] for r in window["rules"]}[slo.ERROR_RATIO_SLO_WINDOW] == (
        f"1 - avg_over_time({slo.GOOD}[28d])"
    )
    # Selectable by environment on the dashboards, like every scraped series.
    constants = stack_constants.stack_constant_exprs(load_stack("prod"))
    assert all(r["labels"] == {"environment": "prod"} for r in loaded if r["record"] in constants)


def backup_stale_test(stack_constants: str, tmp_path: Path, limit_hours: int) -> subprocess.CompletedProcess[str]:
    """promtool test of alerts/backups.yml joined with a rendered constants file: no backup ever
    (last success 0, promtool's clock starts at 0), so the age is the clock; quiet when the
    clock is at the limit plus `for`, firing one minute later."""
    (tmp_path / "backups.yml").write_text(committed.rule_file_text(rules.BACKUP_RULES))
    (tmp_path / "stack-constants.yml").write_text(stack_constants)
    rule = rules.BACKUP_RULES.rules[0].as_rule()
    quiet_until = int(limit_hours * 60 + _minutes(rule["for"]))
    test = {
        "rule_files": ["backups.yml", "stack-constants.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": f'{BACKUP_LAST_SUCCESS}{{job="backup"}}', "values": f"0x{quiet_until + 5}"}
                ],
                "alert_rule_test": [
                    {"eval_time": f"{quiet_until}m", "alertname": rule["alert"], "exp_alerts": []},
                    {
                        "eval_time": f"{quiet_until + 1}m",
                        "alertname": rule["alert"],
                        "exp_alerts": [{"exp_labels": rule["labels"], "exp_annotations": rule["annotations"]}],
                    },
                ],
            }
        ],
    }
    (tmp_path / "test.yml").write_text(yaml.safe_dump(test, width=1000))
    return promtool("test", "rules", "test.yml", cwd=tmp_path)


def test_backup_stale_fires_at_the_limit_the_stack_sets(tmp_path: Path) -> None:
    """The rule Prometheus really evaluates: the static file with the stack's own constants."""
    settings = settings_of({"backupIntervalHours": 24, "backupStaleAfterHours": 30}, frozenset(), stack="test")
    result = backup_stale_test(stack_constants.stack_constants(settings), tmp_path, 30)
    assert result.returncode == 0, result.stdout + result.stderr
    # The same expectations against a stack with another limit fail: the constant is what counts.
    other = settings_of({"backupIntervalHours": 24, "backupStaleAfterHours": 26}, frozenset(), stack="test")
    result = backup_stale_test(stack_constants.stack_constants(other), tmp_path, 30)
    assert result.returncode != 0 and "FAILED" in result.stdout + result.stderr


def test_promtool_check_rules_rejects_a_broken_file(tmp_path: Path) -> None:
    # The check above could pass on anything if promtool were not really looking.
    path = tmp_path / "broken.yml"
    path.write_text("groups:\n- name: x\n  rules:\n  - alert: X\n    expr: rate(friday_tasks_total[5m]\n")
    assert promtool("check", "rules", str(path)).returncode != 0


def test_promtool_unit_tests_pass() -> None:
    files = sorted(p.name for p in TESTS_DIR.glob("*.yml"))
    assert files
    result = promtool("test", "rules", *files, cwd=TESTS_DIR)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(files)


def _unit_tests() -> list[dict[str, Any]]:
    groups = []
    for path in sorted(TESTS_DIR.glob("*.yml")):
        groups.extend(yaml.safe_load(path.read_text())["tests"])
    return groups


def _minutes(duration: str) -> float:
    units = {"s": 1 / 60, "m": 1, "h": 60}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+)([smh])", duration))


def alert_rules_by_tier() -> dict[tuple[str, str], dict[str, Any]]:
    """(alertname, severity) -> rule: an alert may have a warning and a critical tier."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for r in committed_rules():
        if "alert" in r:
            key = (r["alert"], r["labels"]["severity"])
            assert key not in out, f"two rules for {key}"
            out[key] = r
    return out


def _of_tier(case: dict[str, Any], severity: str) -> list[dict[str, Any]]:
    return [e for e in case["exp_alerts"] if e["exp_labels"]["severity"] == severity]


@pytest.mark.parametrize(("alert", "severity"), [(r.name, r.threshold.severity) for r in rules.ALERTS], ids=str)
def test_every_alert_has_unit_tests_for_threshold_and_for(alert: str, severity: str) -> None:
    cases = [(g, c) for g in _unit_tests() for c in g.get("alert_rule_test", []) if c["alertname"] == alert]
    fired = [(g, c) for g, c in cases if _of_tier(c, severity)]
    assert fired, f"{alert} ({severity}): no unit test where it fires"
    rule = alert_rules_by_tier()[(alert, severity)]
    for_ = _minutes(rule.get("for", "0m"))
    for _, case in fired:
        assert _minutes(case["eval_time"]) >= for_, f"{alert} expected firing before its `for` ({for_}m)"
        for expected in _of_tier(case, severity):
            assert expected["exp_annotations"]["summary"] == rule["annotations"]["summary"]
            assert expected["exp_annotations"]["runbook_url"] == rule["annotations"]["runbook_url"]
            assert set(expected["exp_annotations"]) == {"summary", "description", "runbook_url"}
    if for_ == 0:
        return  # the Watchdog: nothing to hold back, nothing below a threshold
    # Not before `for`: the same input, one evaluation earlier, this tier not firing.
    for group, case in fired:
        earlier = [
            c
            for c in group.get("alert_rule_test", [])
            if c["alertname"] == alert
            and not _of_tier(c, severity)
            and _minutes(c["eval_time"]) < _minutes(case["eval_time"])
        ]
        assert earlier, f"{alert} ({severity}): no check that it stays quiet before `for` has passed"
    # Not below the threshold: a test group where this tier never fires, evaluated after `for`.
    quiet_groups = [
        g
        for g in _unit_tests()
        if any(c["alertname"] == alert for c in g.get("alert_rule_test", []))
        and all(not _of_tier(c, severity) for c in g.get("alert_rule_test", []) if c["alertname"] == alert)
    ]
    assert any(
        _minutes(c["eval_time"]) > for_
        for g in quiet_groups
        for c in g.get("alert_rule_test", [])
        if c["alertname"] == alert
    ), f"{alert} ({severity}): no input at or below the threshold that stays quiet past `for`"


def _expr(threshold: thresholds.Threshold) -> str:
    [rule] = [r for r in rules.ALERTS if r.threshold == threshold]
    return rule.expr


def test_tiered_alerts_fire_both_tiers_at_high_values() -> None:
    """Each tiered alert has a unit test where warning and critical fire together: the input the
    inhibit rule (critical silences warning, same alertname and instance) acts on."""
    for warning, critical in thresholds.TIERED:
        assert warning.alert == critical.alert
        assert (warning.severity, critical.severity) == ("warning", "critical")
        # A higher value, or (CertificateExpiring) the same ratio against a stricter per-stack limit.
        assert critical.value > warning.value or _expr(critical) != _expr(warning), warning.alert
        both = [
            c
            for g in _unit_tests()
            for c in g.get("alert_rule_test", [])
            if c["alertname"] == warning.alert and _of_tier(c, "warning") and _of_tier(c, "critical")
        ]
        assert both, f"{warning.alert}: no unit test with both tiers firing"
        for case in both:
            [w], [c] = _of_tier(case, "warning"), _of_tier(case, "critical")
            # Same labels apart from severity: what the inhibit rule's `equal` compares.
            assert {**w["exp_labels"], "severity": "critical"} == c["exp_labels"]


def unknown_metrics(rule_docs: list[dict[str, Any]]) -> dict[str, set[str]]:
    out = {}
    for rule in rule_docs:
        unknown = exporters.unknown_metrics(rule["expr"])
        if unknown:
            out[rule.get("alert") or rule.get("record", "?")] = unknown
    return out


def test_rules_use_only_catalogued_metrics() -> None:
    assert unknown_metrics(committed_rules()) == {}


def test_catalog_check_catches_an_unknown_metric() -> None:
    bad = [
        {"alert": "Typo", "expr": "friday_task_queue_depth > 50"},
        {"alert": "BackupTypo", "expr": "time() - friday_backup_last_succes_timestamp_seconds > 1"},
        {"alert": "Fine", "expr": "friday_backup_kept < 1 or friday_tasks_queue_depth > 50"},
    ]
    assert unknown_metrics(bad) == {
        "Typo": {"friday_task_queue_depth"},
        "BackupTypo": {"friday_backup_last_succes_timestamp_seconds"},
    }


def test_recording_rules_used_by_alerts_are_generated_per_stack() -> None:
    used = set()
    recorded = {r["record"] for r in committed_rules() if "record" in r}
    for rule in committed_rules():
        used |= set(re.findall(r"\bfriday:[a-z0-9_:]+", rule["expr"]))
    doc = yaml.safe_load(stack_constants.stack_constants(load_stack("dev")))
    # Every friday: series a committed rule reads is recorded by a committed rule or is a stack
    # constant (the SLO objective is a constant for the dashboards only).
    constants = {r["record"] for r in doc["groups"][0]["rules"]}
    assert used - recorded <= constants
    assert constants - used == {slo.OBJECTIVE}


def test_thresholds_and_for_come_from_the_thresholds_module() -> None:
    declared = {(v.alert, v.severity): v for v in vars(thresholds).values() if isinstance(v, thresholds.Threshold)}
    on_disk = alert_rules_by_tier()
    assert set(on_disk) == set(declared)
    # One rule per (alertname, severity); only the declared tiers share an alertname.
    shared = {name for name, _ in on_disk if sum(1 for n, _ in on_disk if n == name) > 1}
    assert shared == {w.alert for w, _ in thresholds.TIERED}
    for (name, _), rule in on_disk.items():
        th = declared[(name, rule["labels"]["severity"])]
        assert rule["labels"]["severity"] == th.severity
        assert rule.get("for", "0m") == th.for_
        if name not in ("Watchdog", "GatewayMetricsAbsent"):
            # The comparison with the threshold ends a line of the expression.
            assert re.search(rf"(>|<|==) {re.escape(f'{th.value:g}')}$", rule["expr"], re.M), rule["expr"]
    for seed in thresholds.SEED_THRESHOLDS:
        assert (seed.alert, seed.severity) in on_disk


def test_every_alert_has_severity_and_annotations() -> None:
    for name, rule in alert_rules_by_tier().items():
        assert rule["labels"]["severity"] in ("critical", "warning", "none"), name
        assert set(rule["annotations"]) == {"summary", "description", "runbook_url"}, name
        assert all(v.strip() for v in rule["annotations"].values()), name


def github_headings(markdown: str) -> dict[str, str]:
    """Anchor -> heading text for every heading outside code blocks (GitHub's rules)."""
    anchors: dict[str, str] = {}
    in_code = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            in_code = not in_code
            continue
        match = re.match(r"^(#{1,6})\s+(.*?)\s*$", line)
        if match and not in_code:
            anchor = github_anchor(match.group(2))
            # GitHub suffixes repeated anchors with -1, -2...
            n, unique = 0, anchor
            while unique in anchors:
                n += 1
                unique = f"{anchor}-{n}"
            anchors[unique] = match.group(2)
    return anchors


def test_github_anchor_rules() -> None:
    assert github_anchor("HighErrorRate") == "higherrorrate"
    assert github_anchor("Alert runbooks") == "alert-runbooks"
    assert github_anchor("Port 18789: already in use?") == "port-18789-already-in-use"
    assert github_anchor("snake_case-name") == "snake_case-name"


def runbook_sections() -> dict[str, str]:
    text = TROUBLESHOOTING.read_text()
    assert rules.RUNBOOK_HEADING in text
    runbooks = text.split(rules.RUNBOOK_HEADING, 1)[1].split("\n## ", 1)[0]
    parts = re.split(r"^### (.+)$", runbooks, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def test_every_runbook_url_resolves_to_its_own_heading() -> None:
    anchors = github_headings(TROUBLESHOOTING.read_text())
    for (name, _), rule in alert_rules_by_tier().items():
        doc, _, anchor = rule["annotations"]["runbook_url"].partition("#")
        assert doc == RUNBOOK_BASE_URL and doc.endswith("/" + rules.RUNBOOK_DOC)
        assert anchor in anchors, f"{name}: #{anchor} is not a heading of {doc}"
        assert anchors[anchor] == name, f"{name} points at the section of {anchors[anchor]}"


def test_every_runbook_has_symptom_diagnosis_command_and_fix() -> None:
    sections = runbook_sections()
    assert set(sections) == set(alert_rules()), "one runbook section per alert, and no other"
    for name, body in sections.items():
        assert "**Symptom:**" in body, name
        assert "**Diagnosis:**" in body and "```sh" in body, name
        assert "**Fix:**" in body, name


def test_runbooks_of_tiered_alerts_describe_both_tiers() -> None:
    sections = runbook_sections()
    for warning, critical in thresholds.TIERED:
        body = sections[warning.alert]
        for tier in (warning, critical):
            assert f"`{tier.severity}`" in body and f"`for: {tier.for_}`" in body, (warning.alert, tier)


@pytest.mark.parametrize("doc", ["README.md", "docs/monitoring.md"])
def test_docs_name_every_rule_file(doc: str) -> None:
    text = (REPO_ROOT / doc).read_text(encoding="utf-8")
    missing = [f.path for f in rules.RULE_FILES if f"`{f.path}`" not in text]
    assert not missing, f"{doc} does not name {missing}"


def test_every_recording_rule_has_a_promtool_unit_test() -> None:
    """alerts/tests/dashboards_test.yml checks each dashboard recording rule's value (run by
    test_promtool_unit_tests_pass); none may be left out."""
    tested = {
        case["expr"]
        for group in yaml.safe_load((TESTS_DIR / "dashboards_test.yml").read_text())["tests"]
        for case in group.get("promql_expr_test", [])
    }
    [group] = yaml.safe_load((REPO_ROOT / recording.PATH).read_text())["groups"]
    recorded = {r["record"] for r in group["rules"]}
    assert recorded == {r.record for r in recording.RULES}
    assert recorded - tested == set()


def test_every_recording_rule_is_read_by_a_dashboard() -> None:
    read: set[str] = set()
    for dashboard in DASHBOARDS.values():
        for _, query in dashboard.queries():
            read |= recording.recorded_in(query.expr)
    assert read == set(recording.BY_RECORD)


def test_recording_rules_evaluate_once_a_minute() -> None:
    [group] = yaml.safe_load((REPO_ROOT / recording.PATH).read_text())["groups"]
    assert group["interval"] == recording.INTERVAL == "1m"
    # The panels reading them ask for no finer step.
    for dashboard in DASHBOARDS.values():
        for panel in dashboard.panels():
            if any(recording.recorded_in(q.expr) for q in panel.queries):
                assert panel.min_interval == recording.INTERVAL, panel.title


def test_critical_tier_is_evaluated_before_its_warning_tier() -> None:
    """Inhibition holds only if the critical reaches Alertmanager no later than its warning
    (see the tier order note in infra/alerting/rules.py): the critical rule comes first in its group."""
    for warning, _ in thresholds.TIERED:
        for path in sorted(ALERTS_DIR.glob("*.yml")):
            for group in yaml.safe_load(path.read_text())["groups"]:
                order = [r["labels"]["severity"] for r in group["rules"] if r.get("alert") == warning.alert]
                if order:
                    assert order == ["critical", "warning"], (path.name, group["name"], order)


def test_durations_in_words() -> None:
    assert [thresholds.in_words(d) for d in ("5m", "1h", "30s", "2d")] == [
        "5 minutes",
        "1 hour",
        "30 seconds",
        "2 days",
    ]
    for bad in ("", "5", "1h30m", "m", None):
        with pytest.raises(ValueError, match="not a one-unit duration"):
            thresholds.in_words(bad)


def test_descriptions_that_name_a_window_in_words_say_the_window_the_rule_uses() -> None:
    # A description states its window in words derived from the same threshold the expression uses.
    for threshold in (thresholds.PROMETHEUS_RULE_FAILURES, thresholds.ALERTMANAGER_NOTIFICATIONS_FAILING):
        [rule] = [r for r in rules.ALERTS if r.name == threshold.alert]
        assert f"[{threshold.window}]" in rule.expr
        assert f"in {thresholds.in_words(threshold.window)}" in rule.as_rule()["annotations"]["description"]
