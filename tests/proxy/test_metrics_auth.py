"""The metrics-auth proxy (docs/monitoring.md): why it exists, its Caddyfile checked by Debian's
Caddy, and live on 127.0.0.1 in front of the REAL gateway 0.1.0 (one per module, logging at debug:
its own request log says what the proxy forwarded; tests/support/gateway_log.py)."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from infra.host import metrics_auth_unit as host_metrics_auth
from infra.monitoring import prometheus_config
from infra.render import artefacts
from infra.stack import build_stack, metrics_auth
from infra.stack.prometheus import scrape_targets
from infra.stack.spec import Reach, SecretRef
from testbed import localize
from testbed.processes import free_port, http_ok, process, wait_for
from testbed.settings import settings_of
from tests.support.gateway_log import Seen, settled
from tests.support.real_gateway import RealGateway

KEY = "metrics-auth-admin-key-0123456789"
WITH_TOKEN = frozenset({metrics_auth.METRICS_SECRET})


def test_debian_prometheus_cannot_send_a_header_itself(tmp_path: Path) -> None:
    """Why the proxy: Prometheus 2.42 refuses `http_headers` (documented from 2.55 on)."""
    settings = settings_of({}, WITH_TOKEN)
    config = prometheus_config.prometheus_config(settings, scrape_targets(build_stack(settings).long_running()))
    [job] = [j for j in config["scrape_configs"] if j["job_name"] == "gateway"]
    job["http_headers"] = {"X-API-Key": {"files": ["key"]}}
    config.pop("rule_files")
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    done = subprocess.run(
        ["promtool", "check", "config", "prometheus.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0 and "http_headers not found" in done.stdout + done.stderr


def test_the_service_holds_the_key_only_in_its_environment() -> None:
    settings = settings_of({}, WITH_TOKEN)
    service = build_stack(settings).service(metrics_auth.NAME)
    assert service.env[metrics_auth.KEY_ENV] == SecretRef(metrics_auth.METRICS_SECRET)
    [caddyfile] = service.files
    assert caddyfile.secrets == () and "<secret:" not in caddyfile.content
    assert f"header_up X-API-Key {{env.{metrics_auth.KEY_ENV}}}" in caddyfile.content
    assert "header_up -Authorization" in caddyfile.content and "Bearer" not in caddyfile.content
    # Reachable on the stack network only, on its own port; never published on the host.
    [port] = service.ports
    assert (port.name, port.number, port.reach) == ("metrics", settings.metrics_auth_port, Reach.SERVICES)
    assert service.published() == ()
    assert service.read_only_root and (service.uid, service.gid) == (1000, 1000)
    # It declares the gateway's scrape job: Prometheus scrapes it by its port named `metrics`.
    assert service.metrics is not None and service.metrics.job == "gateway" and service.metrics.port == "metrics"
    assert service.depends_on == ("gateway",)


def test_no_proxy_without_a_token() -> None:
    spec = build_stack(settings_of({}))
    assert metrics_auth.NAME not in {s.name for s in spec.services}
    assert not any(rel.startswith("host/systemd/friday-metrics-auth") for rel in artefacts(settings_of({})))


def caddy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["caddy", *args], capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("where", ["container", "host"])
def test_caddy_validates_the_rendered_caddyfile(where: str, tmp_path: Path) -> None:
    settings = settings_of({}, WITH_TOKEN)
    if where == "container":
        text = next(f.content for f in build_stack(settings).service(metrics_auth.NAME).files)
    else:
        text = artefacts(settings)["host/metrics-auth/Caddyfile"]
        assert f"http://:{settings.metrics_auth_port} {{\n\tbind 127.0.0.1\n" in text
    path = tmp_path / "Caddyfile"
    path.write_text(text)
    done = caddy("validate", "--adapter", "caddyfile", "--config", str(path))
    assert done.returncode == 0, done.stderr
    # Negative control: Caddy 2.6 refuses what it does not know (persist_config is 2.7+).
    path.write_text(text.replace("\tadmin off\n", "\tadmin off\n\tpersist_config off\n"))
    assert caddy("validate", "--adapter", "caddyfile", "--config", str(path)).returncode != 0


def test_adapted_config_never_contains_the_key(tmp_path: Path) -> None:
    path = tmp_path / "Caddyfile"
    path.write_text(metrics_auth.caddyfile(metrics_auth.MetricsAuthParams(1, "127.0.0.1:2")))
    done = subprocess.run(
        ["caddy", "adapt", "--adapter", "caddyfile", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), metrics_auth.KEY_ENV: KEY},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert KEY not in done.stdout and f"{{env.{metrics_auth.KEY_ENV}}}" in done.stdout


def test_host_unit_reads_the_key_from_a_root_only_environment_file() -> None:
    files = artefacts(settings_of({}, WITH_TOKEN))
    unit = files[f"host/systemd/{host_metrics_auth.UNIT}"]
    assert f"EnvironmentFile={host_metrics_auth.ENV_PATH}\n" in unit
    assert "DynamicUser=yes\n" in unit and "ExecStart=/usr/bin/caddy run --adapter caddyfile" in unit
    env = files["host/env/metrics-auth.env.example"]
    assert f"{metrics_auth.KEY_ENV}=<secret:{metrics_auth.METRICS_SECRET}>" in env


def test_systemd_analyze_accepts_the_unit(tmp_path: Path) -> None:
    unit = tmp_path / host_metrics_auth.UNIT
    unit.write_text(artefacts(settings_of({}, WITH_TOKEN))[f"host/systemd/{host_metrics_auth.UNIT}"])
    done = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False
    )
    # Only the paths that exist on a deployed host may be missing here (caddy, the env file).
    problems = [
        line
        for line in done.stderr.splitlines()
        if line.strip() and "/usr/bin/caddy" not in line and "metrics-auth.env" not in line
    ]
    assert problems == [], done.stderr


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealGateway]:
    with RealGateway.start(tmp_path_factory.mktemp("gateway"), level="debug") as gw:
        yield gw


@contextlib.contextmanager
def metrics_auth_proxy(tmp_path: Path, rendered: str, gw: RealGateway, key: str) -> Iterator[str]:
    """The rendered Caddyfile run by Debian's Caddy on a free loopback port in front of `gw`, with
    `key` in its environment as the stack hands it over; yields its base URL once it answers."""
    port = free_port()
    config = tmp_path / "Caddyfile"
    config.write_text(localize.metrics_auth_caddyfile(rendered, f"127.0.0.1:{port}", f"127.0.0.1:{gw.port}"))
    argv = ["caddy", "run", "--adapter", "caddyfile", "--config", str(config)]
    log = tmp_path / "caddy.log"
    with process(argv, log, env=localize.metrics_auth_env(tmp_path / "caddy", key)):
        base = f"http://127.0.0.1:{port}"
        wait_for("the proxy", lambda: http_ok(f"{base}{metrics_auth.HEALTH_PATH}"), 15, log.read_text)
        yield base


def test_live_forwards_only_get_metrics_with_the_key_as_x_api_key(tmp_path: Path, gateway: RealGateway) -> None:
    settings = settings_of({}, WITH_TOKEN)
    rendered = next(f.content for f in build_stack(settings).service(metrics_auth.NAME).files)
    key = gateway.create_api_key("admin", name="metrics-auth")
    with metrics_auth_proxy(tmp_path, rendered, gateway, key) as base:
        before = len(settled(gateway))
        ok = requests.get(f"{base}/metrics", timeout=10)
        assert ok.status_code == 200 and ok.text.startswith("# HELP "), ok.text[:200]
        assert "friday_audit_entries_total" in ok.text
        # A client's own Authorization is dropped: the proxy's key decides (a bad Bearer would be 401).
        assert requests.get(f"{base}/metrics", headers={"Authorization": "Bearer x"}, timeout=10).status_code == 200
        assert requests.post(f"{base}/metrics", timeout=10).status_code == 404
        assert requests.get(f"{base}/api/v1/tasks", timeout=10).status_code == 404
        assert requests.get(f"{base}/health", timeout=10).status_code == 404
        # The gateway's own request log: the two scrapes, answered 200 (the admin key arrived as
        # X-API-Key), and nothing else reached it.
        assert settled(gateway)[before:] == [Seen("GET", "/metrics", 200)] * 2
    # The same key as Bearer is what the gateway refuses: why the header matters.
    bearer = requests.get(f"{gateway.url}/metrics", headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert (bearer.status_code, bearer.json()) == (401, {"error": "Invalid or expired token"})


@pytest.mark.parametrize(("role", "status"), [(None, 401), ("viewer", 403)])
def test_live_a_wrong_or_viewer_key_is_the_gateways_refusal(
    role: str | None, status: int, tmp_path: Path, gateway: RealGateway
) -> None:
    """An unknown key: the gateway's 401; a valid key without the admin role: its 403. The proxy
    passes the gateway's answer on, so a scrape with the wrong key shows up as such in Prometheus."""
    rendered = metrics_auth.caddyfile(metrics_auth.params(settings_of({}, WITH_TOKEN)))
    key = "not-a-key-of-this-gateway-0123456789" if role is None else gateway.create_api_key(role, name=role)
    with metrics_auth_proxy(tmp_path, rendered, gateway, key) as base:
        before = len(settled(gateway))
        assert requests.get(f"{base}/metrics", timeout=10).status_code == status
        assert settled(gateway)[before:] == [Seen("GET", "/metrics", status)]
