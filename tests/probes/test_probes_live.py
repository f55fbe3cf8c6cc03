"""The rendered probes, for real: Debian's blackbox exporter probes the REAL gateway 0.1.0
(tests/support/real_gateway.py, with an admin API key made through its API) directly and through the
rendered nginx and Caddy (self-signed certificate), the WebSocket through probe-auth; each probe also
fails when what it checks is broken. Then Debian's Prometheus evaluates the rendered rules on those
probes and CertificateExpiring fires for a short-lived certificate only."""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from infra import render
from infra.alerting import stack_constants, thresholds
from infra.logs.lines import records
from infra.monitoring import endpoints
from infra.settings import Settings
from infra.stack import blackbox
from testbed import localize
from testbed.processes import binary, free_port, http_ok, process, wait_for
from testbed.settings import settings_of
from tests.support.probes import LocalProbes, local_probes
from tests.support.proxy import LocalProxy, port_of, proxy_settings, run_proxy
from tests.support.real_gateway import RealGateway
from tests.support.tls import CertFiles, self_signed

pytestmark = pytest.mark.live
KINDS = ["nginx", "caddy"]
ALL_PROBES = ["health", "websocket", "https", "redirect", "websocket-proxy"]


def probe_settings(kind: str, running_proxy: LocalProxy, **extra: Any) -> Settings:
    """The stack settings of the probes: this proxy kind, self-signed, its HTTPS port as the public one."""
    values: dict[str, Any] = {
        "proxyEnabled": True,
        "proxyKind": kind,
        "proxyTlsSource": "self-signed",
        "proxyHttpsHostPort": https_port(running_proxy),
        **({"proxyRateLimitPerSecond": 0, "proxyLoginRateLimitPerMinute": 0} if kind == "caddy" else {}),
        **extra,
    }
    return settings_of(values, frozenset({"metricsToken"}), stack="dev")


def https_port(running_proxy: LocalProxy) -> int:
    return int(port_of(running_proxy.params.https_listen))


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> CertFiles:
    # Valid for 2 days: under the critical limit (certExpiryCriticalDays = 7).
    return self_signed(tmp_path_factory.mktemp("tls"), days=2)


class Gateway:
    """The real gateway and the admin API key probe-auth sends (made through its API)."""

    def __init__(self, gw: RealGateway) -> None:
        self.gw = gw
        self.port = gw.port
        self.key = gw.create_api_key("admin", name="probe-auth")

    def requests_for(self, path: str) -> int:
        """Requests for `path` in the gateway's own log (debug level logs every request)."""
        return sum(1 for r in records(self.gw.log()) if r.get("url") == path)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    with RealGateway.start(tmp_path_factory.mktemp("gateway"), level="debug") as gw:
        yield Gateway(gw)


@pytest.fixture(scope="module", params=KINDS)
def proxied(request: pytest.FixtureRequest, cert: CertFiles, gateway: Gateway) -> Iterator[LocalProbes]:
    kind: str = request.param
    with run_proxy(kind, proxy_settings(kind), cert, gateway.port) as running_proxy:
        settings = probe_settings(kind, running_proxy)
        with local_probes(settings, gateway.port, gateway.key, cert, running_proxy) as probes:
            yield probes


def test_every_probe_of_the_stack_succeeds(proxied: LocalProbes) -> None:
    assert [p.name for p in blackbox.probes(proxied.settings)] == ALL_PROBES
    for name in ALL_PROBES:
        metrics, debug = proxied.run(name)
        assert metrics["probe_success"] == 1, f"{name}:\n{debug}"


def test_https_probe_reports_the_certificate_expiry(proxied: LocalProbes, cert: CertFiles) -> None:
    metrics, debug = proxied.run("https")
    days_left = (metrics["probe_ssl_earliest_cert_expiry"] - time.time()) / 86400
    assert 1.5 < days_left <= 2, debug
    assert metrics["probe_http_ssl"] == 1


def test_https_probe_fails_without_trusting_the_certificate(proxied: LocalProbes) -> None:
    doc = yaml.safe_load(proxied.config.read_text())
    untrusting = doc["modules"][blackbox.MODULE_HTTPS]
    del untrusting["http"]["tls_config"]["ca_file"]
    doc["modules"]["untrusting"] = untrusting
    proxied.config.write_text(yaml.safe_dump(doc))
    requests.post(f"{proxied.url}/-/reload", timeout=10).raise_for_status()
    [https] = [p for p in blackbox.probes(proxied.settings) if p.name == "https"]
    metrics, debug = proxied.probe("untrusting", proxied.local(https.target))
    assert metrics["probe_success"] == 0
    assert "certificate signed by unknown authority" in debug


def test_redirect_probe_fails_on_a_location_for_another_address(proxied: LocalProbes) -> None:
    # The proxy redirects to its own public port; a stack that says another port expects another Location.
    other = settings_of({**_plain(proxied.settings), "proxyHttpsHostPort": 4443}, stack="dev")
    doc = yaml.safe_load(proxied.config.read_text())
    doc["modules"]["elsewhere"] = blackbox.modules(other)[blackbox.MODULE_REDIRECT]
    proxied.config.write_text(yaml.safe_dump(doc))
    requests.post(f"{proxied.url}/-/reload", timeout=10).raise_for_status()
    [redirect] = [p for p in blackbox.probes(proxied.settings) if p.name == "redirect"]
    metrics, _ = proxied.probe("elsewhere", proxied.local(redirect.target))
    assert metrics["probe_success"] == 0


def _plain(settings: Settings) -> dict[str, Any]:
    keys = ("proxyEnabled", "proxyKind", "proxyTlsSource", "proxyRateLimitPerSecond", "proxyLoginRateLimitPerMinute")
    return {k: v for k, v in settings.model_dump(by_alias=True).items() if k in keys}


def dropping_upgrade(kind: str) -> Callable[[str], str]:
    """An edit of the rendered proxy configuration that stops passing Upgrade/Connection upstream."""

    def edit(text: str) -> str:
        if kind == "nginx":
            dropped = ["proxy_set_header Upgrade $http_upgrade;", "proxy_set_header Connection $connection_upgrade;"]
            lines = text.splitlines(keepends=True)
            kept = [line for line in lines if line.strip() not in dropped]
            assert len(lines) - len(kept) == len(dropped), "the upgrade headers are not in the nginx config"
            return "".join(kept)
        edited, n = re.subn(
            r"(\n(\s*)reverse_proxy \S+ \{\n)", r"\1\2\theader_up -Upgrade\n\2\theader_up -Connection\n", text
        )
        assert n == 1, "no reverse_proxy block in the Caddyfile"
        return edited

    return edit


def test_websocket_route_probe_needs_the_upgrade_headers(
    proxied: LocalProbes, cert: CertFiles, gateway: Gateway
) -> None:
    """Through a proxy that drops Upgrade/Connection the gateway gets a plain GET with the key and
    answers 404: the credentialed probe through the proxy fails (without a key it would get 401
    either way, the gateway checking credentials before routing)."""
    kind = proxied.settings.proxy_kind
    with run_proxy(kind, proxy_settings(kind), cert, gateway.port, dropping_upgrade(kind)) as broken:
        settings = probe_settings(kind, broken)
        with local_probes(settings, gateway.port, gateway.key, cert, broken) as probes:
            metrics, debug = probes.run("websocket-proxy")
            direct, _ = probes.run("websocket")
    assert metrics["probe_success"] == 0
    assert "HTTP/1.1 404" in debug, debug
    assert direct["probe_success"] == 1  # the gateway itself still upgrades


class _Constant(BaseHTTPRequestHandler):
    """A /health that answers 200 with a body that does not say ok."""

    def do_GET(self) -> None:
        body = json.dumps({"status": "starting", "checks": {"database": True}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_health_probe_judges_the_body_not_only_the_status(proxied: LocalProbes) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Constant)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        metrics, _ = proxied.probe(blackbox.MODULE_HEALTH, f"http://127.0.0.1:{server.server_address[1]}/health")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
    assert metrics["probe_success"] == 0
    assert metrics["probe_failed_due_to_regex"] == 1
    assert metrics["probe_http_status_code"] == 200


def test_websocket_probe_fails_with_a_wrong_or_viewer_key(cert: CertFiles, gateway: Gateway) -> None:
    settings = settings_of({}, frozenset({"metricsToken"}), stack="dev")
    with local_probes(settings, gateway.port, "not-the-admin-key", cert) as probes:
        metrics, debug = probes.run("websocket")
    assert metrics["probe_success"] == 0
    assert "HTTP/1.1 401" in debug, debug
    viewer = gateway.gw.create_api_key("viewer", name="probe-viewer")
    with local_probes(settings, gateway.port, viewer, cert) as probes:
        metrics, debug = probes.run("websocket")
    assert metrics["probe_success"] == 0
    assert "HTTP/1.1 403" in debug, debug


def test_probe_auth_forwards_nothing_but_the_websocket(proxied: LocalProbes, gateway: Gateway) -> None:
    base = f"http://127.0.0.1:{proxied.auth_port}"
    paths = ("/metrics", "/api/v1/tasks", "/health")
    seen = {path: gateway.requests_for(path) for path in paths}
    for path in paths:
        assert requests.get(f"{base}{path}", timeout=10).status_code == 404, path
    # The gateway's own request log: a forwarded request would be a line there (it logs every one).
    requests.get(f"{gateway.gw.url}/health", timeout=10).raise_for_status()
    wait_for(
        "the gateway's log line of a direct /health", lambda: gateway.requests_for("/health") > seen["/health"], 10
    )
    after = {path: gateway.requests_for(path) for path in paths}
    assert after == {**seen, "/health": seen["/health"] + 1}, "probe-auth forwarded something else than /ws/metrics"


# --- Prometheus evaluates the rendered rules on the probes ----------------------------------


def _local_prometheus(out: Path, dest: Path, targets: dict[str, str], exporter: str) -> Path:
    """The rendered Prometheus folder with only the https probe job, once per local target, pointed here."""
    shutil.copytree(localize.rendered_files(out, endpoints.PROMETHEUS, endpoints.PROMETHEUS_CONFIG_DIR), dest)
    config_file = dest / "prometheus.yml"
    config = yaml.safe_load(config_file.read_text())
    [job] = [j for j in config["scrape_configs"] if j["job_name"] == "probe-https"]
    jobs = []
    for name, target in targets.items():
        local = dict(job, job_name=f"probe-https-{name}", scrape_interval="1s", scrape_timeout="1s")
        local["static_configs"] = [{**s, "targets": [target]} for s in job["static_configs"]]
        local["relabel_configs"] = [
            {**r, "replacement": exporter} if r.get("target_label") == "__address__" else r
            for r in job["relabel_configs"]
        ]
        jobs.append(local)
    config["scrape_configs"] = jobs
    config["global"]["evaluation_interval"] = localize.INTERVAL
    config["alerting"]["alertmanagers"] = []
    config_file.write_text(yaml.safe_dump(config))
    return config_file


def test_prometheus_fires_certificate_expiring_for_the_short_lived_certificate_only(
    tmp_path: Path, cert: CertFiles, gateway: Gateway
) -> None:
    (tmp_path / "long").mkdir()
    long_lived = self_signed(tmp_path / "long", days=400)
    with (
        run_proxy("nginx", proxy_settings("nginx"), cert, gateway.port) as short_proxy,
        run_proxy("nginx", proxy_settings("nginx"), long_lived, gateway.port) as long_proxy,
    ):
        settings = probe_settings("nginx", short_proxy)
        with local_probes(settings, gateway.port, gateway.key, cert, short_proxy) as probes:
            # One exporter probes both proxies: trust both test certificates.
            doc = yaml.safe_load(probes.config.read_text())
            doc["modules"][blackbox.MODULE_HTTPS]["http"]["tls_config"]["ca_file"] = str(
                _bundle(tmp_path, cert, long_lived)
            )
            probes.config.write_text(yaml.safe_dump(doc))
            requests.post(f"{probes.url}/-/reload", timeout=10).raise_for_status()
            [https] = [p for p in blackbox.probes(settings) if p.name == "https"]
            short_target = probes.local(https.target)
            long_target = f"https://127.0.0.1:{https_port(long_proxy)}/health"

            out = tmp_path / "render"
            render.write(settings, out)
            config = _local_prometheus(
                out,
                tmp_path / "prometheus",
                {"short": short_target, "long": long_target},
                probes.url.removeprefix("http://"),
            )
            original = localize.shorten_for(config.parent / "rules" / "probes.yml", thresholds.CERT_EXPIRING.alert)
            assert original == thresholds.CERT_EXPIRING.for_  # the last tier of the file: the warning
            constants = (config.parent / "rules" / "stack-constants.yml").read_text()
            assert stack_constants.CERT_EXPIRY_CRITICAL_SECONDS in constants
            port = free_port()
            cmd = localize.prometheus_command(out, config, tmp_path / "data", port)
            log = tmp_path / "prometheus.log"
            with process([binary("prometheus"), *cmd], log):
                base = f"http://127.0.0.1:{port}"
                wait_for("Prometheus ready", lambda: http_ok(f"{base}{endpoints.READY_PATH}"), 30)

                def firing() -> list[dict[str, Any]] | None:
                    alerts = requests.get(f"{base}/api/v1/alerts", timeout=10).json()["data"]["alerts"]
                    found = [
                        a
                        for a in alerts
                        if a["labels"]["alertname"] == thresholds.CERT_EXPIRING.alert and a["state"] == "firing"
                    ]
                    return found if len(found) >= 2 else None

                found = wait_for("CertificateExpiring firing in both tiers", firing, 60, log.read_text)
                # Both tiers, and only for the short-lived certificate's endpoint.
                assert sorted(a["labels"]["severity"] for a in found) == ["critical", "warning"]
                assert {a["labels"]["instance"] for a in found} == {short_target}
                days = requests.get(
                    f"{base}/api/v1/query",
                    params={"query": "(probe_ssl_earliest_cert_expiry - time()) / 86400"},
                    timeout=10,
                ).json()["data"]["result"]
                by_job = {r["metric"]["job"]: float(r["value"][1]) for r in days}
                assert by_job["probe-https-short"] < 2, by_job
                assert by_job["probe-https-long"] > 399, by_job


def _bundle(tmp_path: Path, *certs: CertFiles) -> Path:
    path = tmp_path / "ca-bundle.pem"
    path.write_text("".join(c.cert.read_text() for c in certs))
    return path
