"""The variant with the reverse proxy (nginx) in front: TLS, redirect, WebSocket, refusals, on the engine."""

from __future__ import annotations

import http.client
import json
import ssl

import docker
import pytest
import requests
from websockets.sync.client import connect

from infra.stack import gateway, proxy
from infra.stack.proxy_config import HEALTH_PATH, SECURITY_HEADERS, WEBSOCKET_PATH
from tests.support.engine.checks import get
from tests.support.engine.stack import RunningStack


def https_base(stack: RunningStack) -> str:
    # The literal address, not `localhost`, which may resolve to ::1 first, where the engine
    # publishes nothing and another process may listen (the certificate names 127.0.0.1 too).
    return f"https://127.0.0.1:{stack.port(proxy.NAME, proxy.HTTPS)}"


def public_base(stack: RunningStack) -> str:
    """Where the proxy sends clients: the server name and the published HTTPS port."""
    return f"https://{stack.settings.proxy_server_name}:{stack.port(proxy.NAME, proxy.HTTPS)}"


def ca(stack: RunningStack) -> str:
    path = stack.tls_dir / "cert.pem"
    assert path.read_text() == stack.secrets["proxyTlsCert"], "the certificate the proxy was given"
    return str(path)


def test_only_the_proxy_is_published(client: docker.DockerClient, proxy_stack: RunningStack) -> None:
    gw = client.api.inspect_container(proxy_stack.containers[gateway.NAME])
    assert not gw["HostConfig"]["PortBindings"], "behind the proxy the gateway publishes nothing"
    px = client.api.inspect_container(proxy_stack.containers[proxy.NAME])
    bound = {ip for bindings in px["HostConfig"]["PortBindings"].values() for ip in (b["HostIp"] for b in bindings)}
    assert bound == {"127.0.0.1"}
    assert px["State"]["Health"]["Status"] == "healthy", "/proxy-health answers the healthcheck from 127.0.0.1"


def test_proxy_terminates_tls_with_the_given_certificate(proxy_stack: RunningStack) -> None:
    answer = get(f"{https_base(proxy_stack)}{gateway.HEALTH_PATH}", verify=ca(proxy_stack))
    assert answer.status_code == 200 and answer.json()["status"] == "ok", "reached the gateway"
    for name, value in SECURITY_HEADERS.items():
        assert answer.headers.get(name) == value, name
    with pytest.raises(requests.exceptions.SSLError):
        get(f"{https_base(proxy_stack)}{gateway.HEALTH_PATH}")


def test_plain_http_redirects_to_https(proxy_stack: RunningStack) -> None:
    url = f"http://127.0.0.1:{proxy_stack.port(proxy.NAME, proxy.HTTP)}/api/v1/tasks?limit=5"
    answer = get(url, allow_redirects=False)
    assert answer.status_code == 308
    assert answer.headers["Location"] == f"{public_base(proxy_stack)}/api/v1/tasks?limit=5"


def test_websocket_is_upgraded_through_the_proxy(proxy_stack: RunningStack) -> None:
    """The real gateway's /ws/metrics through nginx: upgraded with the admin key, and a `subscribe`
    answered by the gateway's `ack` naming the channel (a round trip through the proxy both ways)."""
    context = ssl.create_default_context(cafile=ca(proxy_stack))
    key = proxy_stack.secrets["metricsToken"]
    url = f"wss://127.0.0.1:{proxy_stack.port(proxy.NAME, proxy.HTTPS)}{WEBSOCKET_PATH}"
    with connect(url, ssl=context, additional_headers={"X-API-Key": key}, proxy=None, open_timeout=30) as ws:
        ws.send(json.dumps({"type": "subscribe", "payload": {"channels": ["metrics"]}}))
        for _ in range(10):
            message = json.loads(ws.recv(timeout=10))
            if message.get("type") == "ack":
                assert message["payload"] == {"subscribed": ["metrics"]}, message
                break
        else:
            pytest.fail("no ack of the subscription came back through the proxy")


def test_metrics_and_proxy_health_are_refused_from_outside(proxy_stack: RunningStack) -> None:
    key = proxy_stack.secrets["metricsToken"]
    for path in ("/metrics", "/metrics/", "/metrics?x=1"):
        answer = get(f"{https_base(proxy_stack)}{path}", verify=ca(proxy_stack), headers={"X-API-Key": key})
        assert answer.status_code == 404, path
    # From the host the proxy sees the bridge's address, not 127.0.0.1: refused.
    conn = http.client.HTTPConnection("127.0.0.1", proxy_stack.port(proxy.NAME, proxy.HTTP), timeout=10)
    try:
        conn.request("GET", HEALTH_PATH)
        assert conn.getresponse().status == 403
    finally:
        conn.close()
