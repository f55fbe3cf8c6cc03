"""docs/openapi.yaml: a valid OpenAPI 3.1 document describing exactly the routes of docs/gateway.md."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from testbed.paths import REPO_ROOT
from tests.support.gateway_api import GatewayApi, GatewayDocError, Route, load_gateway_api, parse_http_api

SPEC_PATH = REPO_ROOT / "docs" / "openapi.yaml"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
ERROR_CODES = ("400", "401", "403", "404", "429")


@cache
def spec() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return document


@cache
def gateway() -> GatewayApi:
    return load_gateway_api(REPO_ROOT / "docs" / "gateway.md")


def operations() -> dict[Route, dict[str, Any]]:
    return {
        Route(method.upper(), path): op
        for path, item in spec()["paths"].items()
        for method, op in item.items()
        if method in METHODS
    }


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local $ref (`#/components/...`)."""
    while "$ref" in node:
        target: Any = spec()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def test_spec_is_valid_openapi_3_1() -> None:
    document, base_uri = read_from_filename(str(SPEC_PATH))
    validate(document, base_uri=base_uri)
    assert spec()["openapi"].startswith("3.1.")


def test_validator_rejects_a_broken_copy() -> None:
    # Proves the validator call above can fail: a response without its required description.
    broken = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    del broken["paths"]["/health"]["get"]["responses"]["200"]["description"]
    with pytest.raises(Exception, match="description"):
        validate(broken)


def test_routes_are_exactly_those_of_gateway_md() -> None:
    in_spec = set(operations())
    in_doc = set(gateway().routes)
    assert sorted(map(str, in_doc - in_spec)) == [], "routes of gateway.md missing from the spec"
    assert sorted(map(str, in_spec - in_doc)) == [], "routes in the spec that gateway.md does not list"
    assert len(in_spec) == 61


def test_admin_only_markings_agree() -> None:
    marked = {r for r, op in operations().items() if op.get("x-admin-only") is True}
    assert marked == set(gateway().admin)
    for route in marked:
        description = operations()[route].get("description", "")
        assert "admin" in description.lower(), f"{route}: the description must say it is admin-only"
        assert "403" in operations()[route]["responses"], f"{route}: admin-only routes answer 403"
    unmarked = [r for r, op in operations().items() if "x-admin-only" in op and op["x-admin-only"] is not True]
    assert unmarked == [], "x-admin-only is either true or absent"


def test_public_routes_need_no_credential_and_every_other_route_does() -> None:
    schemes = set(spec()["components"]["securitySchemes"])
    assert spec()["security"] == [{"bearerAuth": []}, {"apiKeyAuth": []}]
    for route, op in operations().items():
        if route in gateway().public:
            assert op.get("security") == [], f"{route} is public in gateway.md"
            assert "public" in op.get("description", "").lower()
        else:
            # A route may narrow the schemes (logout ends a JWT session) but never drop them all.
            requirements = op.get("security", spec()["security"])
            used = {name for requirement in requirements for name in requirement}
            assert requirements and all(requirements) and used <= schemes, f"{route} needs a credential"
            assert "401" in op["responses"], f"{route} answers 401 without a credential"


def test_both_auth_schemes_are_declared() -> None:
    schemes = spec()["components"]["securitySchemes"]
    # Bearer carries a JWT only; API keys travel in X-API-Key only (docs/gateway.md).
    bearer = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert schemes["bearerAuth"] == schemes["bearerAuth"] | bearer
    assert "API key" not in schemes["bearerAuth"]["description"].replace("an API key sent this way is refused", "")
    assert schemes["apiKeyAuth"] == schemes["apiKeyAuth"] | {"type": "apiKey", "in": "header", "name": "X-API-Key"}


def test_error_responses_are_the_json_error_object() -> None:
    error = spec()["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert error["properties"]["error"]["type"] == "string"
    seen: set[str] = set()
    for route, op in operations().items():
        for code, response in op["responses"].items():
            if code in ERROR_CODES:
                seen.add(code)
                content = resolve(response)["content"]["application/json"]["schema"]
                assert resolve(content) == error, f"{route} {code} is not the Error object"
    assert seen == set(ERROR_CODES)


def test_operations_have_ids_tags_and_a_success_response() -> None:
    ids = [op["operationId"] for op in operations().values()]
    assert len(ids) == len(set(ids)), "operationIds must be unique"
    tags = {t["name"] for t in spec()["tags"]}
    for route, op in operations().items():
        assert set(op["tags"]) <= tags, route
        assert any(code.startswith(("2", "101")) for code in op["responses"]), f"{route} has no success response"


def test_comms_routes_say_they_need_comms_enabled() -> None:
    conditional = gateway().conditions
    assert conditional, "gateway.md marks the comms routes as conditional"
    for route, setting in conditional.items():
        op = operations()[route]
        text = op.get("description", "") + " ".join(
            t.get("description", "") for t in spec()["tags"] if t["name"] in op["tags"]
        )
        assert setting in text, f"{route} must mention {setting}"


def test_request_bodies_of_login_and_limits() -> None:
    login = operations()[Route("POST", "/api/v1/auth/login")]
    schema = resolve(login["requestBody"]["content"]["application/json"]["schema"])
    assert "password" in schema["required"]
    assert {"413", "429"} <= set(login["responses"])
    token = resolve(resolve(login["responses"]["200"])["content"]["application/json"]["schema"])
    assert {"accessToken", "refreshToken", "expiresIn", "tokenType"} <= set(token["properties"])
    health = resolve(operations()[Route("GET", "/health")]["responses"]["200"])
    health_schema = resolve(health["content"]["application/json"]["schema"])
    assert {"status", "version", "uptime", "checks"} <= set(health_schema["properties"])


# The parser is strict: these are the ways a future edit of gateway.md could slip past it.
HEADER = "## Routes\nAuth: Bearer. Public: `GET /health`. Everything else needs a credential.\n"


def parse(bullets: str) -> GatewayApi:
    return parse_http_api(HEADER + bullets + "\n## Next\n")


def test_parser_expands_alternatives_and_scoped_admin() -> None:
    api = parse(
        "- Auth: `POST|GET /a/api-keys`, `DELETE /a/api-keys/{id}`, `GET /a/me` (api-keys: admin).\n"
        "- Soul: `POST /s/{id}/enable|disable` (admin)."
    )
    assert Route("GET", "/a/api-keys") in api.admin and Route("GET", "/a/me") not in api.admin
    assert {Route("POST", "/s/{id}/enable"), Route("POST", "/s/{id}/disable")} <= api.admin
    assert api.public == {Route("GET", "/health")}


@pytest.mark.parametrize(
    ("bullets", "problem"),
    [
        ("- Auth: `FETCH /a`.", "unknown HTTP method"),
        ("- Auth: `GET /a` (not admin).", "unrecognised admin marker"),
        ("- Auth: `GET /a`, and also /api/v1/b.", "outside backticks"),
        ("- Auth: `GET /a`, `GET /a`.", "listed twice"),
        ("- lower: `GET /a`", "without an 'Area:' label"),
        ("- Auth: `GET /a` (widgets: admin).", "matches no route"),
    ],
)
def test_parser_refuses_what_it_cannot_classify(bullets: str, problem: str) -> None:
    with pytest.raises(GatewayDocError, match=problem):
        parse(bullets)
