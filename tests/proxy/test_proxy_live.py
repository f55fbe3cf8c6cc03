"""The rendered nginx and Caddy configurations, live on 127.0.0.1 in front of the REAL gateway 0.1.0
(tests/support/real_gateway.py: one per module, logging at debug so its own request log says what
reached it; tests/support/gateway_log.py)."""

from __future__ import annotations

import http.client
import json
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from websockets.sync.client import connect

from infra.stack.proxy_config import GATEWAY_BODY_LIMIT_BYTES, HEALTH_PATH, SECURITY_HEADERS
from tests.support.gateway_log import Seen, settled
from tests.support.proxy import LocalProxy, port_of, proxy_settings, run_proxy
from tests.support.real_gateway import RealGateway
from tests.support.tls import CertFiles, self_signed

pytestmark = pytest.mark.live
KINDS = ["nginx", "caddy"]
# The real gateway sends a metrics update every 5 s to a subscribed client (its own timer): the next
# one comes within that, plus a margin for a loaded machine.
WS_UPDATE_S = 5.0 + 3.0
LOGIN = "/api/v1/auth/login"


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> CertFiles:
    return self_signed(tmp_path_factory.mktemp("tls"))


class Gateway:
    """The real gateway and an admin API key made through its API (one login: the limit is 5 per
    15 minutes per address, and the proxies reach it from 127.0.0.1 like the tests do)."""

    def __init__(self, gw: RealGateway) -> None:
        self.gw = gw
        self.port = gw.port
        self.url = gw.url
        self.key = gw.create_api_key("admin", name="proxy-tests")

    def count(self, method: str, url: str, status: int | None = None) -> int:
        """Requests the gateway logged for `method url` (with `status` if given), all written out."""
        return sum(1 for s in settled(self.gw) if (s.method, s.url) == (method, url) and status in (None, s.status))

    def seen(self) -> list[Seen]:
        return settled(self.gw)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    with RealGateway.start(tmp_path_factory.mktemp("gateway"), level="debug") as gw:
        yield Gateway(gw)


@pytest.fixture(scope="module", params=KINDS)
def proxy(request: pytest.FixtureRequest, cert: CertFiles, gateway: Gateway) -> Iterator[LocalProxy]:
    kind: str = request.param
    with run_proxy(kind, proxy_settings(kind), cert, gateway.port) as running_proxy:
        yield running_proxy


def session(cert: CertFiles) -> requests.Session:
    s = requests.Session()
    s.trust_env = False  # no HTTP(S)_PROXY from the environment
    s.verify = str(cert.cert)
    return s


def test_proxy_runs_without_root(proxy: LocalProxy) -> None:
    status = Path(f"/proc/{proxy.pid}/status").read_text()
    [uids] = [line.split()[1:] for line in status.splitlines() if line.startswith("Uid:")]
    assert "0" not in uids, f"{proxy.kind} runs as root: {uids}"


def test_tls_is_served_with_the_given_certificate(proxy: LocalProxy, cert: CertFiles) -> None:
    r = session(cert).get(f"{proxy.https_url}/health", timeout=10)
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
    untrusting = requests.Session()
    untrusting.trust_env = False
    with pytest.raises(requests.exceptions.SSLError):
        untrusting.get(f"{proxy.https_url}/health", timeout=10)


def test_security_headers_on_every_answer(proxy: LocalProxy, cert: CertFiles) -> None:
    s = session(cert)
    for path in ("/health", "/api/v1/tasks", "/metrics"):
        r = s.get(f"{proxy.https_url}{path}", timeout=10)
        for name, value in SECURITY_HEADERS.items():
            assert r.headers.get(name) == value, f"{path}: {name}"


def test_http_redirects_to_https(proxy: LocalProxy, cert: CertFiles) -> None:
    r = session(cert).get(f"{proxy.http_url}/api/v1/tasks?limit=5", allow_redirects=False, timeout=10)
    assert r.status_code in (301, 308)
    assert r.headers["Location"] == f"{proxy.https_url}/api/v1/tasks?limit=5"


def test_api_requests_reach_the_gateway(proxy: LocalProxy, cert: CertFiles, gateway: Gateway) -> None:
    before = gateway.count("GET", "/api/v1/tasks", 401)
    r = session(cert).get(f"{proxy.https_url}/api/v1/tasks", timeout=10)
    assert r.status_code == 401 and r.json() == {"error": r.json()["error"]}
    assert gateway.count("GET", "/api/v1/tasks", 401) == before + 1, "the gateway did not log the request"
    # With the admin key the proxy passes on, the gateway answers the route itself.
    r = session(cert).get(f"{proxy.https_url}/api/v1/tasks", headers={"X-API-Key": gateway.key}, timeout=10)
    assert r.status_code == 200, r.text


def test_websocket_round_trip(proxy: LocalProxy, cert: CertFiles, gateway: Gateway) -> None:
    context = ssl.create_default_context(cafile=str(cert.cert))
    url = f"{proxy.wss_url}/ws/metrics"
    headers = {"X-API-Key": gateway.key}
    with connect(url, ssl=context, additional_headers=headers, proxy=None, open_timeout=10, close_timeout=2) as ws:
        # The gateway sends nothing until a client subscribes; the subscribe's ack is the round trip.
        ws.send(json.dumps({"type": "subscribe", "payload": {"channels": ["metrics"]}}))
        deadline = time.monotonic() + 10
        seen: list[object] = []
        while time.monotonic() < deadline and len(seen) < 200:
            message = json.loads(ws.recv(timeout=5))
            seen.append(message)
            if message["type"] == "ack" and message["payload"] == {"subscribed": ["metrics"]}:
                break
        else:
            pytest.fail(f"no ack came back; got {seen[:5]}")
        # The connection stays open and the gateway's broadcasts keep arriving through the proxy.
        broadcast = json.loads(ws.recv(timeout=WS_UPDATE_S))
        assert broadcast["type"] == "update" and broadcast["channel"] == "metrics", broadcast
        assert isinstance(broadcast["payload"], dict) and broadcast["payload"], broadcast


def test_metrics_is_refused_even_with_an_admin_credential(proxy: LocalProxy, cert: CertFiles, gateway: Gateway) -> None:
    s = session(cert)
    paths = ("/metrics", "/metrics/", "/metrics?x=1")
    before = [q for q in gateway.seen() if q.url.startswith("/metrics")]
    for path in paths:
        r = s.get(f"{proxy.https_url}{path}", headers={"X-API-Key": gateway.key}, timeout=10)
        assert r.status_code in (403, 404), path
    after = [q for q in gateway.seen() if q.url.startswith("/metrics")]
    assert after == before, f"/metrics reached the gateway: {after[len(before) :]}"
    direct = requests.get(f"{gateway.url}/metrics", headers={"X-API-Key": gateway.key}, timeout=10)
    assert direct.status_code == 200, "the credential is valid: the refusal is the proxy's"


def test_oversize_body_is_refused_by_the_proxy(proxy: LocalProxy, cert: CertFiles, gateway: Gateway) -> None:
    """The proxy refuses what the gateway's own body limit (Fastify's bodyLimit, 1 MiB) would, before
    it reaches the gateway, and passes a body just under it. The bodies carry no `password`, so the
    gateway answers 400 without counting a login attempt (5 per 15 minutes per address)."""
    s = session(cert)
    url = f"{proxy.https_url}{LOGIN}"
    headers = {"Content-Type": "application/json"}

    def body(size: int) -> bytes:
        data = b'{"pad": "' + b"x" * (size - 11) + b'"}'
        assert len(data) == size
        return data

    before = gateway.count("POST", LOGIN)
    big = body(GATEWAY_BODY_LIMIT_BYTES + 1)
    r = s.post(url, data=big, headers=headers, timeout=30)
    assert r.status_code == 413
    assert gateway.count("POST", LOGIN) == before, "the gateway saw the oversize body"
    # The gateway itself refuses that body: the proxy's limit is not stricter than needed ...
    direct = requests.post(f"{gateway.url}{LOGIN}", data=big, headers=headers, timeout=30)
    assert direct.status_code == 413, direct.text
    # ... and a body at the limit passes through to the gateway's login handler.
    answered = gateway.count("POST", LOGIN, 400)
    at_limit = s.post(url, data=body(GATEWAY_BODY_LIMIT_BYTES), headers=headers, timeout=30)
    assert (at_limit.status_code, at_limit.json()) == (400, {"error": "Password is required"}), at_limit.text
    assert gateway.count("POST", LOGIN, 400) == answered + 1


def test_nginx_rate_limit_answers_429(cert: CertFiles, gateway: Gateway) -> None:
    settings = proxy_settings("nginx", proxyRateLimitPerSecond=1, proxyRateLimitBurst=2)
    with run_proxy("nginx", settings, cert, gateway.port) as p:
        s = session(cert)
        codes = [s.get(f"{p.https_url}/health", timeout=10).status_code for _ in range(10)]
        access_log = Path(p.params.nginx_runtime.access_log).read_text()
    assert codes[:3] == [200, 200, 200], "rate plus burst get through"
    assert 429 in codes, codes
    assert '"GET /health HTTP/1.1" 429' in access_log, "refusals are logged where the runtime says"


def _get_from(source: str, proxy: LocalProxy, path: str) -> int:
    """Status of a plain HTTP GET sent from the loopback address `source` (127.0.0.2 counts as outside)."""
    port = port_of(proxy.params.http_listen)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


def test_proxy_health_answers_only_the_local_healthcheck(proxy: LocalProxy) -> None:
    assert _get_from("127.0.0.1", proxy, HEALTH_PATH) == 200
    # Any other client is refused (nginx) or just redirected to HTTPS (Caddy): never a health answer.
    outside = _get_from("127.0.0.2", proxy, HEALTH_PATH)
    assert outside == (403 if proxy.kind == "nginx" else 308), outside
