"""The gateway double's answers (built from gateway.md's observations) conform to docs/openapi.yaml.

This is the part of "the spec matches the real API" that can run here: the double reproduces what
gateway.md observed of gateway 0.1.0 (/health, login, /metrics auth, errors, the 1 MB limit); the
rest of the API was not observable on this machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
import requests
import yaml
from jsonschema import Draft202012Validator

from tests.support.gateway_double import BODY_LIMIT, GatewayDouble
from tests.support.paths import REPO_ROOT

TOKEN = "conformance-admin-key"
PASSWORD = "conformance-password"


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


def response_spec(path: str, method: str, status: int) -> dict[str, Any]:
    responses = spec()["paths"][path][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {path} does not document {status}"
    resolved: dict[str, Any] = inline(responses[str(status)])
    return resolved


def conforms(path: str, method: str, response: requests.Response) -> None:
    documented = response_spec(path, method, response.status_code)
    media = response.headers["Content-Type"].split(";")[0].strip()
    content = documented["content"]
    matching = [m for m in content if m.split(";")[0].strip() == media]
    assert matching, f"{method.upper()} {path} {response.status_code}: {media} not among {list(content)}"
    schema = content[matching[0]]["schema"]
    body = response.json() if media == "application/json" else response.text
    errors = sorted(Draft202012Validator(schema).iter_errors(body), key=str)
    assert errors == [], f"{method.upper()} {path} {response.status_code}: {[e.message for e in errors]}"


@pytest.fixture(scope="module")
def gateway() -> Iterator[GatewayDouble]:
    with GatewayDouble(token=TOKEN, admin_password=PASSWORD) as gw:
        yield gw


def test_the_check_can_fail() -> None:
    schema = inline(spec()["components"]["schemas"]["Health"])
    assert list(Draft202012Validator(schema).iter_errors({"status": "ok"})), "a Health without checks is invalid"


def test_health(gateway: GatewayDouble) -> None:
    conforms("/health", "get", requests.get(f"{gateway.url}/health", timeout=10))


def test_login_success_wrong_password_bad_body_and_oversize(gateway: GatewayDouble) -> None:
    url = f"{gateway.url}/api/v1/auth/login"
    conforms("/api/v1/auth/login", "post", requests.post(url, json={"password": PASSWORD}, timeout=10))
    conforms("/api/v1/auth/login", "post", requests.post(url, json={"password": "wrong"}, timeout=10))
    conforms("/api/v1/auth/login", "post", requests.post(url, json={"nothing": 1}, timeout=10))
    big = requests.post(url, data=b"x" * (BODY_LIMIT + 1), headers={"Content-Type": "application/json"}, timeout=30)
    assert big.status_code == 413
    conforms("/api/v1/auth/login", "post", big)


def test_metrics_needs_an_admin_credential(gateway: GatewayDouble) -> None:
    url = f"{gateway.url}/metrics"
    conforms("/metrics", "get", requests.get(url, timeout=10))
    conforms("/metrics", "get", requests.get(url, headers={"X-API-Key": "not-admin"}, timeout=10))
    ok = requests.get(url, headers={"X-API-Key": TOKEN}, timeout=10)
    assert requests.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10).status_code == 401
    assert ok.status_code == 200
    documented = response_spec("/metrics", "get", 200)["content"]
    assert ok.headers["Content-Type"] in documented, "the exact exposition media type"


def test_protected_api_route_without_credential(gateway: GatewayDouble) -> None:
    conforms("/api/v1/tasks", "get", requests.get(f"{gateway.url}/api/v1/tasks", timeout=10))
