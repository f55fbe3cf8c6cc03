"""The bare-metal Prometheus configuration (host/prometheus/) and node-exporter's ARGS: promtool
accepts them, and the backup metrics of the textfile folder reach Prometheus through the node job."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

from infra.host import metrics_auth_unit as host_metrics_auth
from infra.host import prometheus_files as host_prometheus
from infra.monitoring import prometheus_config
from infra.render import artefacts
from infra.settings import Settings
from infra.settings.secrets import METRICS_TOKEN
from infra.stack import build_stack
from infra.stack.prometheus import scrape_targets
from infra.stack.spec import fill_secrets
from testbed import localize
from testbed.settings import settings_of

PROM_DIR = host_prometheus.PREFIX + host_prometheus.DIR


def settings(plain: dict[str, object], token: bool) -> Settings:
    return settings_of(plain, frozenset({METRICS_TOKEN}) if token else frozenset(), stack="dev")


def write_prometheus(s: Settings, root: Path) -> Path:
    for rel, text in artefacts(s).items():
        if rel.startswith(PROM_DIR + "/"):
            path = root / rel.removeprefix(PROM_DIR + "/")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    return root / "prometheus.yml"


def promtool(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["promtool", "check", "config", config.name],
        cwd=config.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("token", [True, False], ids=["with-metrics-token", "without"])
def test_host_config_passes_promtool(token: bool, tmp_path: Path) -> None:
    config = write_prometheus(settings({}, token), tmp_path)
    done = promtool(config)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout
    doc = yaml.safe_load(config.read_text())
    jobs = {j["job_name"]: j for j in doc["scrape_configs"]}
    assert set(jobs) == {"gateway", "prometheus", "alertmanager", host_prometheus.NODE_EXPORTER_JOB}
    # No credential in Prometheus at all: with a token it scrapes the metrics-auth unit on loopback.
    assert "authorization" not in jobs["gateway"]
    # Its one secret file: Alertmanager's web password, a placeholder until the operator fills it.
    assert [p.name for p in (tmp_path / "secrets").iterdir()] == ["alertmanager-password"]
    assert (tmp_path / "secrets/alertmanager-password").read_text() == "<secret:alertmanagerPassword>\n"
    assert doc["alerting"]["alertmanagers"][0]["basic_auth"]["password_file"] == (
        "/etc/prometheus/secrets/alertmanager-password"
    )
    [gateway_target] = jobs["gateway"]["static_configs"][0]["targets"]
    s = settings({}, token)
    assert gateway_target == (f"127.0.0.1:{s.metrics_auth_port}" if token else f"127.0.0.1:{s.gateway_port}")
    targets = [t for j in jobs.values() for s in j["static_configs"] for t in s["targets"]]
    assert all(t.startswith("127.0.0.1:") for t in targets), targets
    # Negative control: promtool reads the rule files the config names.
    (tmp_path / "rules/backups.yml").unlink()
    assert promtool(config).returncode != 0


def test_gateway_address_follows_its_bind_address() -> None:
    for bind, expected in (("10.0.0.5", "10.0.0.5:18789"), ("0.0.0.0", "127.0.0.1:18789"), ("::1", "[::1]:18789")):
        s = settings({"gatewayBindAddress": bind}, token=False)
        doc = host_prometheus.prometheus_config(s, build_stack(s))
        gw = next(j for j in doc["scrape_configs"] if j["job_name"] == "gateway")
        assert gw["static_configs"][0]["targets"] == [expected]
        # With a token, the metrics-auth unit forwards to that same address.
        assert host_metrics_auth.params(settings({"gatewayBindAddress": bind}, token=True)).upstream == expected


def test_node_exporter_reads_the_backup_textfile_folder() -> None:
    s = settings({"backupTextfileDir": "/srv/metrics/textfile"}, token=False)
    text = artefacts(s)[host_prometheus.PREFIX + host_prometheus.NODE_EXPORTER_DEFAULTS]
    # As systemd's EnvironmentFile= + `$ARGS` do: the quoted value, then split on whitespace.
    value = shlex.split(next(line for line in text.splitlines() if line.startswith("ARGS=")))[0]
    args = value.removeprefix("ARGS=").split()
    assert "--collector.textfile.directory=/srv/metrics/textfile" in args
    assert f"--web.listen-address=127.0.0.1:{host_prometheus.NODE_EXPORTER_PORT}" in args
    # The node-exporter binary accepts exactly these flags.
    done = subprocess.run(
        ["prometheus-node-exporter", *args, "--help"], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr


def test_same_globals_and_rules_as_the_container_config() -> None:
    s = settings({}, token=True)
    spec = build_stack(s)
    host = host_prometheus.prometheus_config(s, spec)
    container = prometheus_config.prometheus_config(s, scrape_targets(spec.long_running()))
    assert host["global"] == container["global"] and host["rule_files"] == container["rule_files"]


def test_debian_alertmanager_gets_the_web_config_promtool_accepts_once_filled(tmp_path: Path) -> None:
    files = artefacts(settings({}, True))
    defaults = files[f"host/{host_prometheus.ALERTMANAGER_DEFAULTS}"]
    assert f"--web.config.file={host_prometheus.ALERTMANAGER_WEB_CONFIG_INSTALLED}" in defaults
    rendered = files[f"host/{host_prometheus.ALERTMANAGER_WEB_CONFIG}"]
    assert "<secret:alertmanagerPasswordHash>" in rendered and "$2" not in rendered
    web = tmp_path / "web.yml"
    web.write_text(rendered)
    check = ["promtool", "check", "web-config", str(web)]
    # As rendered (a placeholder) promtool refuses it; with a bcrypt hash filled in it passes.
    assert subprocess.run(check, capture_output=True, text=True, timeout=30, check=False).returncode != 0
    web.write_text(fill_secrets(rendered, {"alertmanagerPasswordHash": localize.bcrypt_hash("a-password")}))
    done = subprocess.run(check, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0 and "SUCCESS" in done.stderr, done.stdout + done.stderr
