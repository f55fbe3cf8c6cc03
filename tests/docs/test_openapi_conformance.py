"""docs/openapi.yaml against the REAL gateway 0.1.0 (tests/support/real_gateway.py): every documented
operation is called, and each answer's status code, media type and body are validated against the spec.

The gateway runs with comms enabled, so the comms routes exist. Every secured operation is called
without a credential (401, checked before routing), every admin-only one (`x-admin-only`) with a
viewer key (403), and every one with an admin key: parameterless reads must succeed (200); the others
get the placeholder id `nonexistent` and an empty JSON body, and whatever the gateway answers must be
a documented response with a conforming body. The auth flows (login with its errors up to the rate
limit, refresh, logout) and the API-key flow (create, list, revoke, revoke again) run for real, and
`/ws/metrics` is upgraded and sends an update after a `subscribe`.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from jsonschema import Draft202012Validator
from websockets.sync.client import connect

from testbed.paths import REPO_ROOT
from testbed.processes import free_port
from tests.support.real_gateway import RealGateway, minimal_config

TIMEOUT = 10
PLACEHOLDER_ID = "nonexistent"
METHODS = ("get", "post", "put", "delete", "patch")
# Answered by dedicated tests below (their flows need more than one call).
FLOWS = {("/api/v1/auth/login", "post"), ("/ws/metrics", "get")}
# Fastify's default body limit (1 MiB); a larger body is refused before any route code.
BODY_LIMIT = 1024 * 1024
# The gateway's login limit: 5 attempts per IP per 15 minutes (docs/gateway.md).
LOGIN_ATTEMPTS = 5
UPTIME_GAP_S = 1.2
# The gateway sends a metrics update every 5 s after a subscribe.
WS_UPDATE_S = 5


@cache
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO_ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8"))
    return loaded


def inline(node: Any) -> Any:
    """The node with every local $ref replaced by its target (the spec's schemas are not recursive)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = spec()
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return inline(target)
        return {k: inline(v) for k, v in node.items()}
    if isinstance(node, list):
        return [inline(v) for v in node]
    return node


def operations() -> list[tuple[str, str]]:
    return [(path, m) for path, item in spec()["paths"].items() for m in item if m in METHODS]


def operation(path: str, method: str) -> dict[str, Any]:
    op: dict[str, Any] = spec()["paths"][path][method]
    return op


def secured(path: str, method: str) -> bool:
    return bool(operation(path, method).get("security", spec().get("security")))


def parameterless_read(path: str, method: str) -> bool:
    return method == "get" and "{" not in path


def response_spec(path: str, method: str, status: int) -> dict[str, Any]:
    responses = operation(path, method)["responses"]
    assert str(status) in responses, f"{method.upper()} {path} does not document {status}"
    resolved: dict[str, Any] = inline(responses[str(status)])
    return resolved


def check_body(where: str, documented: dict[str, Any], media: str, text: str) -> None:
    content = documented.get("content", {})
    matching = [m for m in content if m.split(";")[0].strip() == media]
    assert matching, f"{where}: {media} not among {list(content)}"
    schema = content[matching[0]]["schema"]
    body = json.loads(text) if media == "application/json" else text
    errors = sorted(Draft202012Validator(schema).iter_errors(body), key=str)
    assert errors == [], f"{where}: {[e.message for e in errors]} in {text[:300]}"


def conforms(path: str, method: str, response: requests.Response) -> None:
    documented = response_spec(path, method, response.status_code)
    media = response.headers.get("Content-Type", "").split(";")[0].strip()
    check_body(f"{method.upper()} {path} {response.status_code}", documented, media, response.text)


def url_of(gw: RealGateway, path: str) -> str:
    return gw.url + path.replace("{id}", PLACEHOLDER_ID)


def call(gw: RealGateway, path: str, method: str, headers: dict[str, str]) -> requests.Response:
    body: dict[str, Any] | None = {} if "requestBody" in operation(path, method) else None
    return requests.request(method, url_of(gw, path), headers=headers, json=body, timeout=TIMEOUT)


class Gateway:
    def __init__(self, gw: RealGateway) -> None:
        self.gw = gw
        self.admin = {"X-API-Key": gw.create_api_key("admin", name="conformance-admin")}
        self.viewer = {"X-API-Key": gw.create_api_key("viewer", name="conformance-viewer")}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    work: Path = tmp_path_factory.mktemp("conformance")
    config = minimal_config(work / "data", free_port())
    config["comms"] = {"enabled": True}
    with RealGateway.start(work, config=config) as gw:
        yield Gateway(gw)


def test_the_check_can_fail() -> None:
    schema = inline(spec()["components"]["schemas"]["Health"])
    assert list(Draft202012Validator(schema).iter_errors({"status": "ok"})), "a Health without checks is invalid"


def test_every_operation_is_called_here() -> None:
    """The parametrized tests below cover every operation of the spec (none silently left out)."""
    called = {op for op in operations() if op not in FLOWS} | FLOWS
    assert called == set(operations())
    assert len(operations()) > 50


def test_health_and_its_uptime_in_milliseconds(gateway: Gateway) -> None:
    first = requests.get(f"{gateway.gw.url}/health", timeout=TIMEOUT)
    assert first.status_code == 200
    conforms("/health", "get", first)
    time.sleep(UPTIME_GAP_S)
    second = requests.get(f"{gateway.gw.url}/health", timeout=TIMEOUT)
    elapsed = second.json()["uptime"] - first.json()["uptime"]
    # Milliseconds, as the spec says: seconds would move by 1 or 2 here.
    assert UPTIME_GAP_S * 1000 <= elapsed < UPTIME_GAP_S * 1000 + 2000, elapsed


def test_health_from_a_loopback_address_other_than_127_0_0_1_is_forbidden(gateway: Gateway) -> None:
    """Only 127.0.0.1 counts as loopback for the gateway: from 127.0.0.77 even /health is 403."""
    host, port = gateway.gw.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=TIMEOUT, source_address=("127.0.0.77", 0))
    try:
        conn.request("GET", "/health")
        resp = conn.getresponse()
        status, media, text = resp.status, resp.getheader("Content-Type", ""), resp.read().decode()
    finally:
        conn.close()
    assert status == 403
    check_body("GET /health 403", response_spec("/health", "get", 403), media.split(";")[0], text)


@pytest.mark.parametrize(
    ("path", "method"), [op for op in operations() if secured(*op)], ids=lambda v: str(v).replace("/", "_")
)
def test_every_secured_operation_refuses_no_credential(gateway: Gateway, path: str, method: str) -> None:
    r = call(gateway.gw, path, method, {})
    assert r.status_code == 401, (r.status_code, r.text[:200])
    conforms(path, method, r)


@pytest.mark.parametrize(
    ("path", "method"),
    [op for op in operations() if operation(*op).get("x-admin-only") and op not in FLOWS],
    ids=lambda v: str(v).replace("/", "_"),
)
def test_every_admin_only_operation_refuses_a_viewer(gateway: Gateway, path: str, method: str) -> None:
    r = call(gateway.gw, path, method, gateway.viewer)
    assert r.status_code == 403, (r.status_code, r.text[:200])
    conforms(path, method, r)


@pytest.mark.parametrize(
    ("path", "method"),
    [op for op in operations() if secured(*op) and op not in FLOWS],
    ids=lambda v: str(v).replace("/", "_"),
)
def test_every_operation_with_an_admin_key_answers_as_documented(gateway: Gateway, path: str, method: str) -> None:
    r = call(gateway.gw, path, method, gateway.admin)
    assert r.status_code < 500, (r.status_code, r.text[:300])
    if parameterless_read(path, method):
        assert r.status_code == 200, (r.status_code, r.text[:300])
    conforms(path, method, r)


def test_metrics_exposition_media_type(gateway: Gateway) -> None:
    ok = requests.get(f"{gateway.gw.url}/metrics", headers=gateway.admin, timeout=TIMEOUT)
    assert ok.status_code == 200
    assert ok.headers["Content-Type"] in response_spec("/metrics", "get", 200)["content"], "the exact media type"
    # An API key as Bearer is checked as a JWT and refused.
    bearer = {"Authorization": f"Bearer {gateway.admin['X-API-Key']}"}
    refused = requests.get(f"{gateway.gw.url}/metrics", headers=bearer, timeout=TIMEOUT)
    assert refused.status_code == 401
    conforms("/metrics", "get", refused)


def test_api_key_flow(gateway: Gateway) -> None:
    base = f"{gateway.gw.url}/api/v1/auth/api-keys"
    created = requests.post(base, json={"name": "flow", "role": "viewer"}, headers=gateway.admin, timeout=TIMEOUT)
    assert created.status_code == 201
    conforms("/api/v1/auth/api-keys", "post", created)
    key_id = created.json()["id"]
    listed = requests.get(base, headers=gateway.admin, timeout=TIMEOUT)
    assert listed.status_code == 200
    conforms("/api/v1/auth/api-keys", "get", listed)
    assert key_id in json.dumps(listed.json())
    # The new key works (a viewer reads tasks), then is revoked and stops working.
    as_viewer = {"X-API-Key": created.json()["key"]}
    assert requests.get(f"{gateway.gw.url}/api/v1/tasks", headers=as_viewer, timeout=TIMEOUT).status_code == 200
    revoked = requests.delete(f"{base}/{key_id}", headers=gateway.admin, timeout=TIMEOUT)
    assert revoked.status_code == 200
    conforms("/api/v1/auth/api-keys/{id}", "delete", revoked)
    assert requests.get(f"{gateway.gw.url}/api/v1/tasks", headers=as_viewer, timeout=TIMEOUT).status_code == 401
    again = requests.delete(f"{base}/{key_id}", headers=gateway.admin, timeout=TIMEOUT)
    assert again.status_code == 404
    conforms("/api/v1/auth/api-keys/{id}", "delete", again)


def test_login_refresh_logout_and_the_login_limit(gateway: Gateway) -> None:
    """One test, in order: the gateway allows LOGIN_ATTEMPTS logins per 15 minutes per address (the
    fixture's admin key came from one), and the last calls here reach its limit on purpose."""
    gw = gateway.gw
    url = f"{gw.url}/api/v1/auth/login"
    ok = requests.post(url, json={"password": gw.admin_password}, timeout=TIMEOUT)
    assert ok.status_code == 200
    conforms("/api/v1/auth/login", "post", ok)
    pair = ok.json()

    refreshed = requests.post(
        f"{gw.url}/api/v1/auth/refresh",
        json={"refreshToken": pair["refreshToken"]},
        headers={"Authorization": f"Bearer {pair['accessToken']}"},
        timeout=TIMEOUT,
    )
    assert refreshed.status_code == 200
    conforms("/api/v1/auth/refresh", "post", refreshed)
    access = refreshed.json()["accessToken"]
    logout = requests.post(
        f"{gw.url}/api/v1/auth/logout", headers={"Authorization": f"Bearer {access}"}, timeout=TIMEOUT
    )
    assert logout.status_code == 200
    conforms("/api/v1/auth/logout", "post", logout)
    after = requests.get(f"{gw.url}/api/v1/tasks", headers={"Authorization": f"Bearer {access}"}, timeout=TIMEOUT)
    assert after.status_code == 401, "a revoked session still works"

    bad_body = requests.post(url, json={"nothing": 1}, timeout=TIMEOUT)
    assert bad_body.status_code == 400
    conforms("/api/v1/auth/login", "post", bad_body)
    big = requests.post(url, data=b"x" * (BODY_LIMIT + 1), headers={"Content-Type": "application/json"}, timeout=30)
    assert big.status_code == 413
    conforms("/api/v1/auth/login", "post", big)
    statuses = []
    for _ in range(LOGIN_ATTEMPTS + 1):
        wrong = requests.post(url, json={"password": "wrong"}, timeout=TIMEOUT)
        statuses.append(wrong.status_code)
        conforms("/api/v1/auth/login", "post", wrong)
        if wrong.status_code == 429:
            break
    assert statuses[0] == 401 and statuses[-1] == 429, statuses


def test_ws_metrics_upgrades_and_sends_an_update_after_subscribe(gateway: Gateway) -> None:
    ws_url = gateway.gw.url.replace("http://", "ws://") + "/ws/metrics"
    with connect(ws_url, additional_headers=gateway.admin, open_timeout=TIMEOUT) as ws:
        assert ws.response is not None and ws.response.status_code == 101
        headers = response_spec("/ws/metrics", "get", 101)["headers"]
        assert ws.response.headers["Upgrade"].lower() == headers["Upgrade"]["schema"]["const"]
        ws.send(json.dumps({"type": "subscribe", "payload": {"channels": ["metrics"]}}))
        messages: list[dict[str, Any]] = []
        while not any(m.get("type") == "update" for m in messages):
            messages.append(json.loads(ws.recv(timeout=WS_UPDATE_S * 2 + TIMEOUT)))
    update = next(m for m in messages if m["type"] == "update")
    assert update["channel"] == "metrics"
    schema = inline(spec()["components"]["schemas"]["MetricsSnapshot"])
    assert sorted(e.message for e in Draft202012Validator(schema).iter_errors(update["payload"])) == []
    # A plain GET (no upgrade headers) is refused without a credential: credentials come before routing.
    plain = requests.get(f"{gateway.gw.url}/ws/metrics", timeout=TIMEOUT)
    assert plain.status_code == 401
    conforms("/ws/metrics", "get", plain)
