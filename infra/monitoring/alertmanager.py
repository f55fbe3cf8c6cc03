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

The receivers are described once (`receivers`: each integration's fields, a secret marked as such);
`file_receivers` writes them for alertmanager.yml, `operator_receivers` for the Kubernetes
AlertmanagerConfig (camel case, secrets as references to the receivers' Secret).
"""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class ReceiverSecret:
    """A receiver's secret, and the field that carries it in each of Alertmanager's two shapes."""

    receiver: str  # a key of SECRET_OF
    file_field: str  # alertmanager.yml: the templated value or the secret file's path
    operator_field: str  # AlertmanagerConfig: a reference to the key of the receivers' Secret


@dataclass(frozen=True)
class Integration:
    """One `<kind>_configs` entry of a receiver: its fields in alertmanager.yml's (snake case) names,
    in order; a ReceiverSecret where the value is the receiver's secret."""

    kind: str  # webhook, slack, email, pagerduty
    fields: tuple[tuple[str, object], ...]


# The Prometheus Operator's names where they are not alertmanager.yml's in camel case.
_OPERATOR_NAMES = {"require_tls": "requireTLS"}


def _webhook(receiver: str, send_resolved: bool) -> Integration:
    return Integration(
        "webhook",
        (
            ("url", ReceiverSecret(receiver, "url", "urlSecret")),
            ("send_resolved", send_resolved),
            ("max_alerts", 0),
        ),
    )


def receivers(settings: Settings) -> dict[str, tuple[Integration, ...]]:
    """{receiver name: its integrations}: the one description of what each receiver sends to, which
    alertmanager.yml (Docker, bare metal) and the AlertmanagerConfig (Kubernetes) are both written from."""
    on = enabled(settings)
    notify: list[Integration] = []
    if "webhook" in on:
        notify.append(_webhook("webhook", True))
    if "slack" in on:
        slack: tuple[tuple[str, object], ...] = (
            ("api_url", ReceiverSecret("slack", "api_url_file", "apiURL")),
            ("send_resolved", True),
        )
        if settings.alert_slack_channel:
            slack += (("channel", settings.alert_slack_channel),)
        notify.append(Integration("slack", slack))
    if "email" in on:
        notify.append(
            Integration(
                "email",
                (
                    ("to", settings.alert_email_to),
                    ("from", settings.alert_email_from),
                    ("smarthost", settings.alert_email_smarthost),
                    ("auth_username", settings.alert_email_username),
                    ("auth_password", ReceiverSecret("email", "auth_password_file", "authPassword")),
                    ("require_tls", True),
                    ("send_resolved", True),
                ),
            )
        )
    page = list(notify)
    if "pagerduty" in on:
        page.append(
            Integration(
                "pagerduty",
                (
                    ("routing_key", ReceiverSecret("pagerduty", "routing_key_file", "routingKey")),
                    ("send_resolved", True),
                ),
            )
        )
    heartbeat = [_webhook("heartbeat", False)] if "heartbeat" in on else []
    return {NOTIFY: tuple(notify), PAGE: tuple(page), HEARTBEAT: tuple(heartbeat)}


def _file_value(secret: ReceiverSecret) -> str:
    if secret.receiver in TEMPLATED:
        return placeholder(SECRET_OF[secret.receiver])
    return SECRET_FILE_OF[secret.receiver]


def file_receivers(settings: Settings) -> list[dict[str, Any]]:
    """The receivers in alertmanager.yml's shape: secrets templated in or read from their files."""
    out: list[dict[str, Any]] = []
    for receiver, integrations in receivers(settings).items():
        entry: dict[str, Any] = {"name": receiver}
        for integration in integrations:
            config = {
                value.file_field if isinstance(value, ReceiverSecret) else key: (
                    _file_value(value) if isinstance(value, ReceiverSecret) else value
                )
                for key, value in integration.fields
            }
            entry.setdefault(f"{integration.kind}_configs", []).append(config)
        out.append(entry)
    return out


def _camel(name: str) -> str:
    if name in _OPERATOR_NAMES:
        return _OPERATOR_NAMES[name]
    first, *rest = name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def operator_receivers(settings: Settings, secret_name: str) -> list[dict[str, Any]]:
    """The receivers in the Prometheus Operator's AlertmanagerConfig shape (camel case); each secret a
    reference to its key in the Secret `secret_name`."""
    out: list[dict[str, Any]] = []
    for receiver, integrations in receivers(settings).items():
        entry: dict[str, Any] = {"name": receiver}
        for integration in integrations:
            config = {
                value.operator_field if isinstance(value, ReceiverSecret) else _camel(key): (
                    {"name": secret_name, "key": SECRET_OF[value.receiver]}
                    if isinstance(value, ReceiverSecret)
                    else value
                )
                for key, value in integration.fields
            }
            entry.setdefault(f"{_camel(integration.kind)}Configs", []).append(config)
        out.append(entry)
    return out


def alertmanager_config(settings: Settings) -> dict[str, Any]:
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
        "receivers": file_receivers(settings),
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
