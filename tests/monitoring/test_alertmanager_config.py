"""alertmanager.yml from settings: routes, inhibition, receivers and their secrets; amtool checks."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.monitoring import alertmanager, web_auth
from infra.settings import SettingsError, load_stack
from infra.stack import alertmanager as alertmanager_service
from infra.stack import build_stack
from infra.stack.spec import SecretRef, fill_secrets
from testbed import localize
from testbed.settings import settings_of
from tests.support.render import alertmanager_file, render_into

ALL_RECEIVER_SECRETS = frozenset(alertmanager.SECRET_OF.values())
EMAIL = {
    "alertEmailTo": "oncall@example.org",
    "alertEmailFrom": "friday@example.org",
    "alertEmailSmarthost": "smtp.example.org:587",
    "alertEmailUsername": "friday",
}
ALL_ON = {"alertReceivers": "webhook,slack,email,pagerduty,heartbeat", "alertSlackChannel": "#ops", **EMAIL}


def amtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["amtool", *args], capture_output=True, text=True, timeout=60, check=False)


def filled_config(plain: dict[str, Any], tmp_path: Path) -> Path:
    """The rendered alertmanager.yml with placeholders filled as the target would fill them."""
    settings = settings_of(plain, ALL_RECEIVER_SECRETS)
    out = render_into(settings, tmp_path / "out")
    text = alertmanager_file(out).read_text()
    path = tmp_path / "alertmanager.yml"
    path.write_text(
        fill_secrets(
            text,
            {
                "alertWebhookUrl": "https://hooks.example.org/friday?token=a'b\"c",
                "alertHeartbeatUrl": "https://hc-ping.example.org/0f7e1c2a",
            },
        )
    )
    return path


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_committed_stacks_pass_amtool(stack: str, tmp_path: Path) -> None:
    out = render_into(load_stack(stack), tmp_path / "out")
    result = amtool("check-config", str(alertmanager_file(out)))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_receiver_enabled_passes_amtool(tmp_path: Path) -> None:
    path = filled_config(ALL_ON, tmp_path)
    result = amtool("check-config", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    config = yaml.safe_load(path.read_text())
    receivers = {r["name"]: r for r in config["receivers"]}
    # The filled URL survives YAML quoting intact (quotes and all).
    assert receivers["notify"]["webhook_configs"][0]["url"] == "https://hooks.example.org/friday?token=a'b\"c"
    assert receivers["notify"]["slack_configs"] == [
        {"api_url_file": "/etc/alertmanager/secrets/slack-url", "send_resolved": True, "channel": "#ops"}
    ]
    email = receivers["notify"]["email_configs"][0]
    assert email["auth_password_file"] == "/etc/alertmanager/secrets/email-password"
    assert email["require_tls"] is True
    assert "pagerduty_configs" not in receivers["notify"]
    assert receivers["page"]["pagerduty_configs"] == [
        {"routing_key_file": "/etc/alertmanager/secrets/pagerduty-key", "send_resolved": True}
    ]
    assert receivers["heartbeat"]["webhook_configs"][0]["url"] == "https://hc-ping.example.org/0f7e1c2a"


def test_amtool_rejects_an_unfilled_webhook_url(tmp_path: Path) -> None:
    # Why the URL is filled at deploy time: the placeholder itself is not a URL.
    out = render_into(settings_of({"alertReceivers": "webhook"}, ALL_RECEIVER_SECRETS), tmp_path / "out")
    assert amtool("check-config", str(alertmanager_file(out))).returncode != 0


ROUTES = [
    ({"alertname": "Watchdog", "severity": "none"}, "heartbeat"),
    ({"alertname": "GatewayDown", "severity": "critical"}, "page"),
    ({"alertname": "HighQueueDepth", "severity": "warning"}, "notify"),
    ({"alertname": "Unlabelled"}, "notify"),
]


@pytest.mark.parametrize(("labels", "receiver"), ROUTES, ids=[r[1] + "-" + r[0]["alertname"] for r in ROUTES])
def test_routes(labels: dict[str, str], receiver: str, tmp_path: Path) -> None:
    path = filled_config(ALL_ON, tmp_path)
    args = [f"{k}={v}" for k, v in labels.items()]
    result = amtool("config", "routes", "test", f"--config.file={path}", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == receiver


def test_routes_test_can_fail(tmp_path: Path) -> None:
    path = filled_config(ALL_ON, tmp_path)
    result = amtool("config", "routes", "test", f"--config.file={path}", "--verify.receivers=page", "severity=warning")
    assert result.returncode != 0


def test_grouping_inhibition_and_heartbeat_timing() -> None:
    config = alertmanager.alertmanager_config(
        settings_of({"alertGroupWait": "10s", "alertRepeatInterval": "2h", "alertHeartbeatInterval": "5m"})
    )
    route = config["route"]
    assert route["group_by"] == ["alertname", "stack", "environment"]
    assert (route["group_wait"], route["repeat_interval"]) == ("10s", "2h")
    watchdog = route["routes"][0]
    assert watchdog["matchers"] == ['alertname="Watchdog"']
    assert (watchdog["group_wait"], watchdog["group_interval"], watchdog["repeat_interval"]) == ("0s", "5m", "5m")
    assert config["inhibit_rules"] == [
        {
            "source_matchers": ['severity="critical"'],
            "target_matchers": ['severity="warning"'],
            "equal": ["alertname", "instance"],
        }
    ]


def test_no_receiver_enabled_still_valid_but_delivers_nowhere() -> None:
    config = alertmanager.alertmanager_config(settings_of({}))
    assert config["receivers"] == [{"name": "notify"}, {"name": "page"}, {"name": "heartbeat"}]


@pytest.mark.parametrize("receiver", sorted(alertmanager.SECRET_OF))
def test_receiver_without_its_secret_fails_before_deploy(receiver: str) -> None:
    key = alertmanager.SECRET_OF[receiver]
    settings = settings_of({"alertReceivers": receiver, **EMAIL}, ALL_RECEIVER_SECRETS - {key})
    with pytest.raises(SettingsError, match=rf"enables {receiver}, which needs the secret friday:{key}"):
        build_stack(settings)


def test_email_without_its_settings_fails_naming_them() -> None:
    settings = settings_of({"alertReceivers": "email"}, ALL_RECEIVER_SECRETS)
    with pytest.raises(SettingsError) as err:
        build_stack(settings)
    for key in EMAIL:
        assert f"friday:{key}" in str(err.value)


@pytest.mark.parametrize(
    ("value", "message"),
    [("webhook,sms", "unknown receiver 'sms'"), ("slack,slack", "listed twice")],
)
def test_bad_receiver_list_is_refused(value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message) as err:
        settings_of({"alertReceivers": value})
    assert "friday:alertReceivers" in str(err.value)


def test_secrets_reach_alertmanager_as_files_or_a_secret_config() -> None:
    settings = settings_of(ALL_ON, ALL_RECEIVER_SECRETS)
    service = build_stack(settings).service("alertmanager")
    assert {f.path: f.secret.key for f in service.secret_files} == {
        "/etc/alertmanager/secrets/slack-url": "alertSlackUrl",
        "/etc/alertmanager/secrets/email-password": "alertEmailPassword",
        "/etc/alertmanager/secrets/pagerduty-key": "alertPagerdutyKey",
        # Its own web password, for its healthcheck (infra/monitoring/web_auth.py).
        "/etc/alertmanager/secrets/alertmanager-password": "alertmanagerPassword",
    }
    config, web = service.files
    assert set(config.secrets) == {SecretRef("alertWebhookUrl"), SecretRef("alertHeartbeatUrl")}
    assert web.secrets == (SecretRef("alertmanagerPasswordHash"),)
    assert service.secret_refs() == set(ALL_RECEIVER_SECRETS) | {"alertmanagerPassword", "alertmanagerPasswordHash"}
    assert "--cluster.listen-address=" in service.command


def test_render_with_every_receiver_shows_placeholders_only(tmp_path: Path) -> None:
    settings = settings_of(ALL_ON, ALL_RECEIVER_SECRETS)
    out = render_into(settings, tmp_path / "out")
    text = alertmanager_file(out).read_text()
    assert 'url: "<secret:alertWebhookUrl>"' in text
    assert 'url: "<secret:alertHeartbeatUrl>"' in text
    doc = json.loads((out / "services/alertmanager.json").read_text())
    assert {f["content"] for f in doc["secret_files"]} == {
        "<secret:alertSlackUrl>",
        "<secret:alertEmailPassword>",
        "<secret:alertPagerdutyKey>",
        "<secret:alertmanagerPassword>",
    }


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_rendered_web_config_passes_promtool_once_the_hash_is_filled(stack: str, tmp_path: Path) -> None:
    """Alertmanager's --web.config.file as rendered: basic auth for one user whose hash is a
    placeholder (promtool refuses it), filled at deploy with a bcrypt hash (promtool accepts it)."""
    out = render_into(load_stack(stack), tmp_path / "out")
    web = alertmanager_file(out).parent / web_auth.WEB_CONFIG_NAME
    rendered = web.read_text()
    assert yaml.safe_load(rendered) == {"basic_auth_users": {"friday": "<secret:alertmanagerPasswordHash>"}}
    check = ["promtool", "check", "web-config", str(web)]
    assert subprocess.run(check, capture_output=True, text=True, timeout=30, check=False).returncode != 0
    web.write_text(fill_secrets(rendered, {web_auth.HASH_KEY: localize.bcrypt_hash("a-password")}))
    done = subprocess.run(check, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0 and "SUCCESS" in done.stderr, done.stdout + done.stderr
    service = json.loads((out / "services/alertmanager.json").read_text())
    assert f"--web.config.file={web_auth_path()}" in service["command"]
    assert amtool("check-config", str(alertmanager_file(out))).returncode == 0


def web_auth_path() -> str:
    return alertmanager_service.WEB_CONFIG_PATH


def test_both_shapes_of_the_receivers_come_from_one_description() -> None:
    """alertmanager.yml (Docker, bare metal) and the AlertmanagerConfig (Kubernetes) carry the same
    receivers, integrations and plain values in the same order; only the names' case and the way a
    secret arrives differ (a file path or a templated value there, a Secret key reference here)."""
    settings = settings_of(ALL_ON, ALL_RECEIVER_SECRETS)
    files = alertmanager.file_receivers(settings)
    operator = alertmanager.operator_receivers(settings, "receivers-secret")
    assert [r["name"] for r in files] == [r["name"] for r in operator] == list(alertmanager.receivers(settings))
    for in_file, in_operator in zip(files, operator, strict=True):
        assert [k.removesuffix("_configs").replace("_", "") for k in in_file if k != "name"] == [
            k.removesuffix("Configs").lower() for k in in_operator if k != "name"
        ]
        file_configs = [c for k, v in in_file.items() if k != "name" for c in v]
        operator_configs = [c for k, v in in_operator.items() if k != "name" for c in v]
        for file_config, operator_config in zip(file_configs, operator_configs, strict=True):
            assert len(file_config) == len(operator_config)
            for file_value, operator_value in zip(file_config.values(), operator_config.values(), strict=True):
                if isinstance(operator_value, dict):
                    assert operator_value["name"] == "receivers-secret"
                    assert operator_value["key"] in ALL_RECEIVER_SECRETS
                    assert file_value in (*alertmanager.SECRET_FILE_OF.values(), f"<secret:{operator_value['key']}>")
                else:
                    assert file_value == operator_value
    page = next(r for r in operator if r["name"] == alertmanager.PAGE)
    assert page["slackConfigs"] == [
        {"apiURL": {"name": "receivers-secret", "key": "alertSlackUrl"}, "sendResolved": True, "channel": "#ops"}
    ]
    assert page["emailConfigs"][0]["requireTLS"] is True
