"""`render` writes Prometheus' config and rule files and Alertmanager's config, secrets as placeholders."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from infra.alerting import committed, slo, stack_constants
from infra.cli import main
from infra.settings import load_stack
from testbed.paths import REPO_ROOT


def test_render_writes_monitoring_configs_and_rules(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["render", "--stack", "dev", "--out", str(out)]) == 0
    prom = out / "files/prometheus/etc/prometheus"
    for rel in committed.stack_rule_files(load_stack("dev")):
        name = rel.rsplit("/", 1)[-1]
        assert (prom / "rules" / name).read_text() == (REPO_ROOT / rel).read_text()
    constants = yaml.safe_load((prom / "rules/stack-constants.yml").read_text())
    assert {r["record"] for r in constants["groups"][0]["rules"]} == {
        stack_constants.MEMORY_LIMIT_MB,
        stack_constants.COST_BUDGET_USD_DAILY,
        stack_constants.BACKUP_STALE_AFTER_SECONDS,
        stack_constants.BACKUP_OFFSITE_STALE_AFTER_SECONDS,
        stack_constants.GATEWAY_SCRAPE_TIMEOUT_SECONDS,
        stack_constants.GATEWAY_AUDIT_CAPACITY,
        stack_constants.CERT_EXPIRY_WARNING_SECONDS,
        stack_constants.CERT_EXPIRY_CRITICAL_SECONDS,
        *(r["record"] for r in slo.constants(load_stack("dev"))),
    }
    config = yaml.safe_load((prom / "prometheus.yml").read_text())
    assert config["global"]["external_labels"] == {"stack": "dev", "environment": "dev"}
    am = yaml.safe_load((out / "files/alertmanager/etc/alertmanager/alertmanager.yml").read_text())
    assert am["route"]["routes"][0]["receiver"] == "heartbeat"
    summary = json.loads((out / "stack.json").read_text())
    assert {"prometheus", "alertmanager"} <= set(summary["services"])
    service = json.loads((out / "services/prometheus.json").read_text())
    assert (service["uid"], service["gid"]) == (65534, 65534)
    assert "--storage.tsdb.retention.time=30d" in service["command"]
