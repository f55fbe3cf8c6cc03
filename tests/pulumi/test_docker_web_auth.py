"""Alertmanager's web credential under Pulumi's mocks (issue 23 item 5): one RandomPassword, its
bcrypt hash in the web config only, the password in 0400 files of Prometheus, Grafana and
Alertmanager, all secret; a configured value is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.monitoring import prometheus_config
from infra.settings import SettingsError
from infra.stack import alertmanager, grafana
from testbed.pulumi_harness import FAKE_AI_KEY, SECRET_SIG, Recorder, deploy

PASSWORD = "random:index/randomPassword:RandomPassword"
GENERATED = "generated-friday-alertmanagerPassword-"
HASH = "$2a$10$bcrypt-of-generated-friday-alertmanagerPassword"


def uploads(rec: Recorder, service: str) -> dict[str, dict[str, Any]]:
    inputs = rec.named(f"friday-dev-{service}-config-init").inputs
    assert inputs["uploads"][SECRET_SIG], f"{service}: uploads holding the credential must be secret"
    return {u["file"]: u for u in inputs["uploads"]["value"]}


def test_the_web_config_holds_only_the_hash_and_the_clients_the_password() -> None:
    def check(rec: Recorder, _: Any) -> None:
        [password] = [r for r in rec.of_type(PASSWORD) if r.name.endswith("alertmanagerPassword")]
        assert password.inputs["special"] is False and password.inputs["length"] == 32
        am = uploads(rec, "alertmanager")
        web = am[alertmanager.WEB_CONFIG_PATH]
        assert web["permissions"] == "0400"
        assert f"friday: {HASH}" in web["content"] and GENERATED not in web["content"]
        assert am[alertmanager.PASSWORD_PATH]["content"].startswith(GENERATED)
        prom = uploads(rec, "prometheus")
        assert prom[prometheus_config.ALERTMANAGER_PASSWORD_FILE]["content"].startswith(GENERATED)
        assert prom[prometheus_config.ALERTMANAGER_PASSWORD_FILE]["permissions"] == "0400"
        assert GENERATED not in prom["/etc/prometheus/prometheus.yml"]["content"]
        graf = uploads(rec, "grafana")
        assert graf[grafana.ALERTMANAGER_PASSWORD_PATH]["content"].startswith(GENERATED)
        container = rec.named("friday-dev-alertmanager").inputs
        assert f"--web.config.file={alertmanager.WEB_CONFIG_PATH}" in container["command"]
        assert GENERATED not in json.dumps(container["healthcheck"]) + json.dumps(container.get("envs"))
        prometheus = rec.named("friday-dev-prometheus").inputs["command"]
        assert not [flag for flag in prometheus if "enable-admin-api" in flag or "enable-lifecycle" in flag]

    deploy(check)


@pytest.mark.parametrize("key", ["alertmanagerPassword", "alertmanagerPasswordHash"])
def test_a_configured_password_or_hash_is_refused(key: str) -> None:
    def check(rec: Recorder, _: Any) -> None:
        raise AssertionError("the program should have refused")

    with pytest.raises(SettingsError, match=f"friday:{key} is set, but it is generated at deploy"):
        deploy(check, secrets={"anthropicApiKey": FAKE_AI_KEY, key: "chosen-by-hand-" + "y" * 40})
