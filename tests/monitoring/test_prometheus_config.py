"""prometheus.yml from settings: scrape targets, the metrics-auth route, labels, rules; promtool check config."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.alerting import committed, stack_constants
from infra.cli import main
from infra.monitoring import prometheus_config
from infra.settings import Settings, load_stack
from infra.stack import build, build_stack, metrics_auth
from infra.stack import prometheus as prometheus_service
from infra.stack.parts import Part
from infra.stack.spec import (
    WGET,
    Health,
    HttpCheck,
    Image,
    Metrics,
    Port,
    Service,
    Workload,
    resources,
)
from testbed.paths import REPO_ROOT
from testbed.settings import settings_of
from tests.support.alerts import check_config
from tests.support.render import load_yaml, prometheus_dir, render_into


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_rendered_config_passes_promtool(stack: str, tmp_path: Path) -> None:
    out = render_into(load_stack(stack), tmp_path / "out")
    result = check_config(prometheus_dir(out))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(committed.stack_rule_files(load_stack(stack))) + 1} rule files found" in result.stdout
    config = load_yaml(prometheus_dir(out) / "prometheus.yml")
    assert {j["job_name"] for j in config["scrape_configs"]} >= {"gateway", "backup"}


def test_promtool_fails_when_a_referenced_file_is_missing(tmp_path: Path) -> None:
    out = render_into(settings_of({}, frozenset({"metricsToken"})), tmp_path / "out")
    (prometheus_dir(out) / "rules/stack-constants.yml").unlink()
    assert check_config(prometheus_dir(out)).returncode != 0


def test_with_a_token_the_gateway_job_scrapes_the_metrics_auth_proxy_and_holds_no_credential(tmp_path: Path) -> None:
    settings = settings_of({}, frozenset({"metricsToken"}))
    out = render_into(settings, tmp_path / "out")
    config = load_yaml(prometheus_dir(out) / "prometheus.yml")
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    assert set(jobs) == {
        *("gateway", "prometheus", "alertmanager", "grafana", "loki", "alloy", "backup", "blackbox"),
        # The probes (infra/stack/blackbox.py): /health always, the WebSocket with the key.
        *("probe-health", "probe-websocket"),
    }
    assert jobs["loki"]["static_configs"][0]["targets"] == ["loki:3100"]
    assert jobs["alloy"]["static_configs"][0]["targets"] == ["alloy:12345"]
    assert jobs["grafana"]["static_configs"][0]["targets"] == ["grafana:3000"]
    assert jobs["backup"]["static_configs"][0]["targets"] == [f"backup:{settings.backup_metrics_port}"]
    gw = jobs["gateway"]
    assert gw["static_configs"][0]["targets"] == [f"{metrics_auth.NAME}:{settings.metrics_auth_port}"]
    # instance still names the gateway: alerts and dashboards read the same with or without the proxy.
    assert gw["static_configs"][0]["labels"]["instance"] == "gateway:18789"
    assert gw["metrics_path"] == "/metrics"
    # Prometheus holds no key at all: the proxy adds X-API-Key (never Bearer, which the gateway
    # checks as a JWT only), so nothing in any Prometheus version's config is needed for it.
    assert all("authorization" not in job for job in jobs.values())
    # Its one secret is Alertmanager's web password (posting alerts, scraping Alertmanager).
    [secret] = build_stack(settings).service("prometheus").secret_files
    assert secret.secret.key == "alertmanagerPassword"
    assert [j for j, job in jobs.items() if "basic_auth" in job] == ["alertmanager"]
    assert jobs["alertmanager"]["basic_auth"] == {"username": "friday", "password_file": secret.path}
    # render_into puts a placeholder where each secret file goes (promtool wants the file to exist).
    assert sorted(p.name for p in (prometheus_dir(out) / "secrets").iterdir()) == ["alertmanager-password"]
    assert check_config(prometheus_dir(out)).returncode == 0


def config_of(settings: Settings) -> dict[str, Any]:
    return prometheus_config.prometheus_config(
        settings, prometheus_service.scrape_targets(build_stack(settings).long_running())
    )


def test_without_a_token_the_gateway_is_scraped_directly() -> None:
    config = config_of(settings_of({}))
    gw = next(j for j in config["scrape_configs"] if j["job_name"] == "gateway")
    assert gw["static_configs"][0]["targets"] == ["gateway:18789"]
    assert "instance" not in gw["static_configs"][0]["labels"]
    assert metrics_auth.NAME not in {s.name for s in build_stack(settings_of({})).services}


def test_gateway_job_has_its_own_interval_and_timeout() -> None:
    s = settings_of({"gatewayScrapeInterval": "1m", "gatewayScrapeTimeout": "20s"})
    jobs = {j["job_name"]: j for j in config_of(s)["scrape_configs"]}
    assert (jobs["gateway"]["scrape_interval"], jobs["gateway"]["scrape_timeout"]) == ("1m", "20s")
    assert "scrape_interval" not in jobs["prometheus"] and "scrape_timeout" not in jobs["prometheus"]
    # The defaults are deliberate: 30s (half the blocking of 15s), 10s (about 600k audit entries).
    d = {j["job_name"]: j for j in config_of(settings_of({}))["scrape_configs"]}["gateway"]
    assert (d["scrape_interval"], d["scrape_timeout"]) == ("30s", "10s")


def test_a_timeout_longer_than_the_interval_is_refused_before_deploy() -> None:
    from infra.settings import SettingsError

    with pytest.raises(SettingsError, match=r"gatewayScrapeTimeout = '1m'.*gatewayScrapeInterval = '30s'"):
        settings_of({"gatewayScrapeTimeout": "1m"})


def test_every_job_stores_the_environment_as_a_target_label() -> None:
    config = config_of(settings_of({"environment": "staging"}))
    for job in config["scrape_configs"]:
        assert job["static_configs"][0]["labels"]["environment"] == "staging", job["job_name"]


def test_external_labels_intervals_and_alerting() -> None:
    s = settings_of({"environment": "staging", "scrapeInterval": "30s", "evaluationInterval": "20s"}, stack="eu1")
    config = config_of(s)
    assert config["global"] == {
        "scrape_interval": "30s",
        "evaluation_interval": "20s",
        "external_labels": {"stack": "eu1", "environment": "staging"},
    }
    assert config["alerting"]["alertmanagers"] == [
        {
            "api_version": "v2",
            "basic_auth": {"username": "friday", "password_file": "/etc/prometheus/secrets/alertmanager-password"},
            "static_configs": [{"targets": ["alertmanager:9093"]}],
        }
    ]


def test_retention_is_passed_as_flags() -> None:
    s = settings_of({"prometheusRetentionTime": "30d", "prometheusRetentionSize": "20GB"})
    command = build_stack(s).service("prometheus").command
    assert "--storage.tsdb.retention.time=30d" in command
    assert "--storage.tsdb.retention.size=20GB" in command
    assert "--config.file=/etc/prometheus/prometheus.yml" in command


def test_rule_files_in_the_service_are_the_committed_ones() -> None:
    s = load_stack("dev")
    files = {f.path: f.content for f in build_stack(s).service("prometheus").files}
    for rel in committed.stack_rule_files(s):
        name = rel.rsplit("/", 1)[-1]
        assert files[f"/etc/prometheus/rules/{name}"] == (REPO_ROOT / rel).read_text()
    # No remote-write targets in dev: their alert is not loaded (tests/monitoring/test_remote_write.py).
    assert "/etc/prometheus/rules/remote-write.yml" not in files
    assert files["/etc/prometheus/rules/stack-constants.yml"] == stack_constants.stack_constants(s)
    config = yaml.safe_load(files["/etc/prometheus/prometheus.yml"])
    assert config["rule_files"] == [
        "rules/gateway.yml",
        "rules/monitoring.yml",
        "rules/backups.yml",
        "rules/probes.yml",
        "rules/slo.yml",
        "rules/dashboards.yml",
        "rules/stack-constants.yml",
    ]


def exporter(name: str = "exporter") -> Service:
    return Service(
        name=name,
        image=Image("example/exporter", "1.0.0"),
        uid=65534,
        gid=65534,
        workload=Workload.STATELESS,
        resources=resources(64, 100),
        health=Health(HttpCheck("metrics", "/", WGET)),
        ports=(Port("metrics", 9999),),
        metrics=Metrics("metrics", "/probe-metrics"),
    )


def test_a_new_service_joins_by_declaring_its_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build, "BUILDERS", (*build.BUILDERS, lambda _: Part(services=(exporter(),))))
    files = {f.path: f.content for f in build_stack(settings_of({})).service("prometheus").files}
    config = yaml.safe_load(files["/etc/prometheus/prometheus.yml"])
    [job] = [j for j in config["scrape_configs"] if j["job_name"] == "exporter"]
    assert job["metrics_path"] == "/probe-metrics"
    assert job["static_configs"] == [
        {"targets": ["exporter:9999"], "labels": {"service": "exporter", "environment": "dev"}}
    ]


def test_metrics_on_a_port_the_service_does_not_have_are_refused() -> None:
    with pytest.raises(KeyError, match="no port named 'nope'"):
        prometheus_service.scrape_targets([dataclasses.replace(exporter(), metrics=Metrics("nope"))])


def test_duplicate_job_names_are_refused() -> None:
    with pytest.raises(AssertionError, match="share a job name"):
        prometheus_service.scrape_targets([exporter(), exporter()])


def test_render_notes_a_missing_metrics_token_and_no_receivers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["render", "--stack", "dev", "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "friday:metricsToken is not set" in err
    assert "friday:alertReceivers is empty" in err
