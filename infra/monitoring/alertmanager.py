"""Alertmanager's configuration (the service itself is infra/stack/alertmanager.py): routing by
severity, grouping, inhibition, the receivers a stack enables.

Receivers (setting alertReceivers) and their secrets:

| receiver  | secret             | how the secret reaches Alertmanager                            |
| --------- | ------------------ | -------------------------------------------------------------- |
| webhook   | alertWebhookUrl    | filled into alertmanager.yml at deploy (no `url_file` in 0.25) |
| slack     | alertSlackUrl      | secret file, `api_url_file`                                    |
| email     | alertEmailPassword | secret file, `auth_password_file`                              |
| pagerduty | alertPagerdutyKey  | secret file, `routing_key_file`                                |
| heartbeat | alertHeartbeatUrl  | filled into alertmanager.yml at deploy (webhook, as above)     |

Webhook `url_file` exists only in newer Alertmanager releases; Debian's 0.25 (the one the tests
run) refuses it. So a webhook URL is written into alertmanager.yml when the container is
created: that file is then a secret upload (mode 0400, owned by nobody), Pulumi keeps the
content as a secret, and `render` shows `<secret:KEY>` in its place.
"""

from __future__ import annotations

from typing import Any

from infra import PROJECT
from infra.alerting import thresholds
from infra.monitoring import endpoints
from infra.settings import Settings
from infra.settings.secrets import placeholder
from infra.yamlio import dump_readable

CONFIG_PATH = f"{endpoints.ALERTMANAGER_CONFIG_DIR}/alertmanager.yml"
SECRETS_DIR = f"{endpoints.ALERTMANAGER_CONFIG_DIR}/secrets"

# Receiver names in alertmanager.yml.
NOTIFY = "notify"  # warnings and anything without a known severity
PAGE = "page"  # critical: everything notify gets, plus PagerDuty
HEARTBEAT = "heartbeat"  # the Watchdog only

SECRET_OF: dict[str, str] = {
    "webhook": "alertWebhookUrl",
    "slack": "alertSlackUrl",
    "email": "alertEmailPassword",
    "pagerduty": "alertPagerdutyKey",
    "heartbeat": "alertHeartbeatUrl",
}
# Settings each receiver needs besides its secret (attribute, key).
REQUIRED_SETTINGS: dict[str, tuple[tuple[str, str], ...]] = {
    "email": (
        ("alert_email_to", "alertEmailTo"),
        ("alert_email_from", "alertEmailFrom"),
        ("alert_email_smarthost", "alertEmailSmarthost"),
        ("alert_email_username", "alertEmailUsername"),
    ),
}
# Receivers whose secret is filled into alertmanager.yml (no `url_file` in 0.25).
TEMPLATED: tuple[str, ...] = ("webhook", "heartbeat")
# Secrets Alertmanager reads from files of their own.
SECRET_FILE_OF: dict[str, str] = {
    "slack": f"{SECRETS_DIR}/slack-url",
    "email": f"{SECRETS_DIR}/email-password",
    "pagerduty": f"{SECRETS_DIR}/pagerduty-key",
}


def enabled(settings: Settings) -> list[str]:
    return [r for r in settings.alert_receivers.split(",") if r]


def receiver_problems(settings: Settings) -> list[str]:
    """Receivers enabled without their secret or settings, in words an operator can act on."""
    problems = []
    for receiver in enabled(settings):
        key = SECRET_OF[receiver]
        if key not in settings.secrets_set:
            problems.append(
                f"{PROJECT}:alertReceivers = {settings.alert_receivers!r} enables {receiver}, which needs the "
                f"secret {PROJECT}:{key}: `pulumi config set --secret {PROJECT}:{key} --stack {settings.stack}`"
            )
        for attr, setting in REQUIRED_SETTINGS.get(receiver, ()):
            if not getattr(settings, attr):
                problems.append(f"{PROJECT}:alertReceivers enables {receiver}, which needs {PROJECT}:{setting}")
    return problems


def _webhook(key: str, send_resolved: bool) -> dict[str, Any]:
    return {"url": placeholder(key), "send_resolved": send_resolved, "max_alerts": 0}


def _notify_configs(settings: Settings) -> dict[str, list[dict[str, Any]]]:
    on = enabled(settings)
    configs: dict[str, list[dict[str, Any]]] = {}
    if "webhook" in on:
        configs["webhook_configs"] = [_webhook(SECRET_OF["webhook"], True)]
    if "slack" in on:
        slack: dict[str, Any] = {"api_url_file": SECRET_FILE_OF["slack"], "send_resolved": True}
        if settings.alert_slack_channel:
            slack["channel"] = settings.alert_slack_channel
        configs["slack_configs"] = [slack]
    if "email" in on:
        configs["email_configs"] = [
            {
                "to": settings.alert_email_to,
                "from": settings.alert_email_from,
                "smarthost": settings.alert_email_smarthost,
                "auth_username": settings.alert_email_username,
                "auth_password_file": SECRET_FILE_OF["email"],
                "require_tls": True,
                "send_resolved": True,
            }
        ]
    return configs


def alertmanager_config(settings: Settings) -> dict[str, Any]:
    notify = _notify_configs(settings)
    page = {k: list(v) for k, v in notify.items()}
    if "pagerduty" in enabled(settings):
        page["pagerduty_configs"] = [{"routing_key_file": SECRET_FILE_OF["pagerduty"], "send_resolved": True}]
    heartbeat: dict[str, Any] = {}
    if "heartbeat" in enabled(settings):
        heartbeat["webhook_configs"] = [_webhook(SECRET_OF["heartbeat"], False)]
    every = settings.alert_heartbeat_interval
    return {
        "route": {
            "receiver": NOTIFY,
            # One notification per alert and stack; instances of one alert travel together.
            "group_by": ["alertname", "stack", "environment"],
            "group_wait": settings.alert_group_wait,
            "group_interval": settings.alert_group_interval,
            "repeat_interval": settings.alert_repeat_interval,
            "routes": [
                {
                    "matchers": [f'alertname="{thresholds.WATCHDOG.alert}"'],
                    "receiver": HEARTBEAT,
                    "group_wait": "0s",
                    "group_interval": every,
                    "repeat_interval": every,
                },
                {"matchers": ['severity="critical"'], "receiver": PAGE},
                {"matchers": ['severity="warning"'], "receiver": NOTIFY},
            ],
        },
        "inhibit_rules": [
            {
                # A critical alert silences the warning of the same alert on the same instance.
                "source_matchers": ['severity="critical"'],
                "target_matchers": ['severity="warning"'],
                "equal": ["alertname", "instance"],
            }
        ],
        "receivers": [
            {"name": NOTIFY, **notify},
            {"name": PAGE, **page},
            {"name": HEARTBEAT, **heartbeat},
        ],
    }


def config_text(settings: Settings) -> str:
    header = (
        f"# Alertmanager configuration of stack {settings.stack!r}, generated from its settings\n"
        "# (infra/monitoring/alertmanager.py). <secret:KEY> placeholders are filled at deploy time.\n"
    )
    return header + dump_readable(alertmanager_config(settings))


def command() -> tuple[str, ...]:
    return (
        f"--config.file={CONFIG_PATH}",
        f"--storage.path={endpoints.ALERTMANAGER_DATA_DIR}",
        f"--web.listen-address=:{endpoints.ALERTMANAGER_PORT}",
        # One instance: no gossip port listening on the network.
        "--cluster.listen-address=",
    )
