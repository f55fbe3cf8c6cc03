"""Per-client login limit and source allowlist, live: the rendered nginx and Caddy on 127.0.0.1 in front
of the REAL gateway, clients on distinct loopback sources (127.0.0.2, 127.0.0.3).

The gateway sees every client as the proxy (it trusts no forwarded header): its login limit (5 per 15
minutes per address) is one bucket for all, so the proxy must limit each client itself.
"""

from __future__ import annotations

import http.client
import json
import ssl
from collections.abc import Iterator

import pytest

from infra.stack.proxy_config import LOGIN_PATH
from tests.support.gateway_log import settled
from tests.support.proxy import LocalProxy, port_of, proxy_settings, run_proxy
from tests.support.real_gateway import RealGateway
from tests.support.tls import CertFiles, self_signed

pytestmark = pytest.mark.live
CLIENT_A, CLIENT_B, STRANGER = "127.0.0.2", "127.0.0.3", "127.0.0.4"


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> CertFiles:
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealGateway]:
    # Its own gateway: the login test needs a login bucket nothing else used.
    with RealGateway.start(tmp_path_factory.mktemp("gateway"), level="debug") as gw:
        yield gw


def send(
    proxy: LocalProxy, cert: CertFiles, source: str, method: str, path: str, *, body: object = None
) -> tuple[int, str]:
    """(status, body) of one HTTPS request to the proxy from the loopback address `source`."""
    ctx = ssl.create_default_context(cafile=str(cert.cert))
    ctx.check_hostname = False  # the certificate names localhost; the chain is still verified
    conn = http.client.HTTPSConnection(
        "127.0.0.1", port_of(proxy.params.https_listen), timeout=10, source_address=(source, 0), context=ctx
    )
    try:
        payload = None if body is None else json.dumps(body)
        # The site's name (Caddy serves its routes to that Host only; no SNI is sent to an address).
        headers = {"Host": f"localhost:{port_of(proxy.params.https_listen)}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=payload, headers=headers)
        answer = conn.getresponse()
        return answer.status, answer.read().decode("utf-8", "replace")
    finally:
        conn.close()


def logins_seen(gw: RealGateway) -> int:
    return sum(1 for s in settled(gw) if (s.method, s.url) == ("POST", LOGIN_PATH))


def test_one_client_exhausting_its_login_limit_does_not_lock_out_another(cert: CertFiles, gateway: RealGateway) -> None:
    """Client A guesses until nginx refuses it (rate 1/min, burst 1: two attempts reach the gateway);
    client B then logs in with the right password: the gateway's shared bucket (5) is not used up."""
    settings = proxy_settings("nginx", proxyLoginRateLimitPerMinute=1, proxyLoginRateLimitBurst=1)
    with run_proxy("nginx", settings, cert, gateway.port) as proxy:
        before = logins_seen(gateway)
        guesses = [send(proxy, cert, CLIENT_A, "POST", LOGIN_PATH, body={"password": "wrong"}) for _ in range(6)]
        codes = [status for status, _ in guesses]
        assert codes[:2] == [401, 401], guesses
        assert codes[2:] == [429] * 4, guesses
        # The 429s are the proxy's (nginx's page), not the gateway's JSON refusal.
        assert all("Too many login attempts" not in text for _, text in guesses[2:])
        assert logins_seen(gateway) == before + 2, "the refused guesses reached the gateway"
        status, text = send(proxy, cert, CLIENT_B, "POST", LOGIN_PATH, body={"password": gateway.admin_password})
        assert status == 200 and json.loads(text)["accessToken"], text
        # Client A stays refused by the proxy; other routes are not limited by the login zone.
        assert send(proxy, cert, CLIENT_A, "POST", LOGIN_PATH, body={"password": "wrong"})[0] == 429
        assert send(proxy, cert, CLIENT_A, "GET", "/health")[0] == 200


@pytest.mark.parametrize("kind", ["nginx", "caddy"])
def test_the_allowlist_serves_listed_clients_only(kind: str, cert: CertFiles, gateway: RealGateway) -> None:
    settings = proxy_settings(kind, proxySourceAllowlist=f"{CLIENT_A},{CLIENT_B}/32")
    with run_proxy(kind, settings, cert, gateway.port) as proxy:
        health = sum(1 for s in settled(gateway) if (s.method, s.url) == ("GET", "/health"))
        assert send(proxy, cert, CLIENT_A, "GET", "/health")[0] == 200
        assert send(proxy, cert, CLIENT_B, "GET", "/health")[0] == 200
        assert send(proxy, cert, STRANGER, "GET", "/health")[0] == 403
        assert send(proxy, cert, STRANGER, "POST", LOGIN_PATH, body={"password": "x"})[0] == 403
        after = sum(1 for s in settled(gateway) if (s.method, s.url) == ("GET", "/health"))
        assert after == health + 2, "a request from outside the allowlist reached the gateway"
