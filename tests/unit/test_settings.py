"""Settings: defaults, both stack files, the engine path, and bad input with its message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.settings import SettingsError, load_stack, missing_required_secrets, validate
from infra.settings.load import from_config_env, read_stack_file
from testbed.settings import settings_of


def problems_of(plain: dict[str, Any], secrets: frozenset[str] = frozenset()) -> str:
    with pytest.raises(SettingsError) as err:
        settings_of(plain, secrets)
    return str(err.value)


def test_defaults_are_safe() -> None:
    s = settings_of({})
    assert s.target == "docker"
    assert str(s.gateway_bind_address) == "127.0.0.1"
    assert s.gateway_port == 18789
    assert s.gateway_uid != 0 and s.gateway_gid != 0
    assert s.gateway_tag != "latest"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_committed_stacks_are_valid(stack: str) -> None:
    s = load_stack(stack)
    assert s.stack == stack


def test_prod_stack_targets_kubernetes_and_dev_docker() -> None:
    assert load_stack("dev").target == "docker"
    assert load_stack("prod").target == "kubernetes"
    assert load_stack("prod").is_prod


BAD_CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("typo", {"gatewayPrt": 18789}, ["friday:gatewayPrt is not a known setting", "did you mean friday:gatewayPort?"]),
    ("port too high", {"gatewayPort": 70000}, ["friday:gatewayPort = 70000", "less than or equal to 65535"]),
    ("port zero", {"gatewayHostPort": 0}, ["friday:gatewayHostPort = 0", "greater than or equal to 1"]),
    ("port not a number", {"gatewayPort": "http"}, ["friday:gatewayPort = 'http'", "whole number"]),
    ("unknown target", {"target": "swarm"}, ["friday:target = 'swarm'", "'docker' or 'kubernetes'"]),
    ("latest tag", {"gatewayTag": "latest"}, ["friday:gatewayTag = 'latest'", "not a pinned tag"]),
    ("unquoted tag", {"gatewayTag": 1.0}, ["friday:gatewayTag = 1.0", 'quote it: friday:gatewayTag: "1.0"']),
    ("tag in image", {"gatewayImage": "ghcr.io/x/core:0.1.0"}, ["friday:gatewayImage", "without ':tag'"]),
    ("bad address", {"gatewayBindAddress": "999.1.1.1"}, ["friday:gatewayBindAddress = '999.1.1.1'", "IPv4"]),
    ("root uid", {"gatewayUid": 0}, ["friday:gatewayUid = 0", "0 is root's id", "such as 1000"]),
    ("tiny memory", {"gatewayMemoryMb": 64}, ["friday:gatewayMemoryMb = 64", "greater than or equal to 128"]),
    ("log size unit", {"dockerLogMaxSize": "10MB"}, ["friday:dockerLogMaxSize = '10MB'", "such as '10m'"]),
    ("retention words", {"prometheusRetentionTime": "15 days"}, ["friday:prometheusRetentionTime", "15d"]),
    ("zero retention", {"prometheusRetentionTime": "0d"}, ["friday:prometheusRetentionTime = '0d'", "more than zero"]),
    ("zero scrape interval", {"scrapeInterval": "0s"}, ["friday:scrapeInterval = '0s'", "more than zero"]),
    ("zero repeat interval", {"alertRepeatInterval": "0h0m"}, ["friday:alertRepeatInterval = '0h0m'", "'1m'"]),
    (
        "retention size",
        {"prometheusRetentionSize": "5G"},
        ["friday:prometheusRetentionSize = '5G'", "unknown unit 'G'", "'5GB'"],
    ),
    (
        "environment chars",
        {"environment": "Prod!"},
        ["friday:environment = 'Prod!'", "lower-case letters, digits and '-'"],
    ),
    ("provider", {"aiProvider": "mistral"}, ["friday:aiProvider = 'mistral'", "'anthropic', 'openai' or 'google'"]),
    ("log level", {"gatewayLogLevel": "verbose"}, ["friday:gatewayLogLevel = 'verbose'", "'info'"]),
    ("restart", {"dockerRestartPolicy": "no"}, ["friday:dockerRestartPolicy = 'no'", "'unless-stopped'"]),
    (
        "swagger on prod",
        {"environment": "prod", "swaggerUiEnabled": True},
        ["swaggerUiEnabled = true is refused on environment 'prod'", "add 'swagger-ui' to friday:force"],
    ),
]


@pytest.mark.parametrize(("plain", "expected"), [c[1:] for c in BAD_CASES], ids=[c[0] for c in BAD_CASES])
def test_bad_setting_is_refused_with_a_message_naming_it(plain: dict[str, Any], expected: list[str]) -> None:
    message = problems_of(plain)
    for part in expected:
        assert part in message


def test_every_problem_is_reported_at_once() -> None:
    message = problems_of({"gatewayPort": 0, "target": "swarm", "bogus": 1})
    assert "3 bad setting(s)" in message
    for key in ("gatewayPort", "target", "bogus"):
        assert f"friday:{key}" in message


def test_secret_in_plain_text_is_refused_without_echoing_it() -> None:
    value = "sk-ant-visible-in-plain-text-0123456789"
    message = problems_of({"anthropicApiKey": value})
    assert "friday:anthropicApiKey is a secret but is stored in plain text" in message
    assert "pulumi config set --secret friday:anthropicApiKey" in message
    assert value not in message


def test_plain_setting_stored_as_secret_is_refused() -> None:
    message = problems_of({}, frozenset({"gatewayPort"}))
    assert "friday:gatewayPort is not a secret" in message


def test_unknown_secret_key_is_refused() -> None:
    assert "friday:anthropicApiKy is not a known setting; did you mean friday:anthropicApiKey?" in problems_of(
        {}, frozenset({"anthropicApiKy"})
    )


def test_swagger_on_prod_is_allowed_when_forced() -> None:
    s = settings_of({"environment": "prod", "swaggerUiEnabled": True, "force": "swagger-ui"})
    assert s.swagger_ui_enabled


@pytest.mark.parametrize(
    ("provider", "key"), [("anthropic", "anthropicApiKey"), ("openai", "openaiApiKey"), ("google", "googleApiKey")]
)
def test_ai_provider_key_is_required_for_a_deploy(provider: str, key: str) -> None:
    s = settings_of({"aiProvider": provider})
    [message] = missing_required_secrets(s)
    assert f"friday:{key} is required because aiProvider = '{provider}'" in message
    assert missing_required_secrets(settings_of({"aiProvider": provider}, frozenset({key}))) == []


def test_engine_strings_and_stack_file_values_give_the_same_settings(tmp_path: Path) -> None:
    plain = {
        "target": "docker",
        "gatewayPort": 18800,
        "gatewayHostPort": 28800,
        "gatewayBindAddress": "0.0.0.0",
        "swaggerUiEnabled": True,
        "dockerLogMaxFiles": 3,
    }
    path = tmp_path / "Pulumi.x.yaml"
    doc = {"config": {f"friday:{k}": v for k, v in plain.items()} | {"friday:signingKey": {"secure": "AAAA"}}}
    path.write_text(yaml.safe_dump(doc))
    from_file = read_stack_file(path, "x")
    engine = {f"friday:{k}": str(v).lower() if isinstance(v, bool) else str(v) for k, v in plain.items()}
    engine["friday:signingKey"] = "a-decrypted-value-of-length-32-or-more"
    from_engine = from_config_env("x", engine, {"friday:signingKey"})
    assert from_file.secret_keys == from_engine.secret_keys == {"signingKey"}
    assert validate(from_file) == validate(from_engine)


def test_other_namespaces_belong_to_providers(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text("config:\n  docker:host: ssh://ops@example\n  friday:target: docker\n")
    raw = read_stack_file(path, "x")
    assert {k: e.value for k, e in raw.plain.items()} == {"target": "docker"}
    assert raw.providers == {"docker:host": "ssh://ops@example"}
    assert raw.problems == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [("config: [1, 2]\n", "'config' must be a mapping"), ("config: {a: [\n", "not valid YAML"), ("- 1\n", "mapping")],
)
def test_malformed_stack_file(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text(text)
    with pytest.raises(SettingsError, match=expected.replace("[", r"\[")):
        read_stack_file(path, "x")


def test_missing_stack_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"Pulumi\.nope\.yaml does not exist"):
        load_stack("nope", tmp_path)
