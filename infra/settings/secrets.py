"""Every secret a stack can hold: its config key, what it is for, and how it is obtained.

Secrets never sit in the settings model: settings only record which secret keys a stack
file sets (encrypted), the Pulumi program reads their values as secret Outputs, and
`render` writes a placeholder instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.settings import remote_write


def placeholder(key: str) -> str:
    """What stands for a secret's value wherever it is not filled in: rendered files, templates."""
    return f"<secret:{key}>"


@dataclass(frozen=True)
class SecretSpec:
    key: str
    description: str
    # Generated with pulumi-random when the operator gives none; None: never generated.
    generate_length: int | None = None
    min_length: int = 1

    def placeholder(self) -> str:
        """What `render` writes where the value would go."""
        return placeholder(self.key)


AI_PROVIDER_KEYS: dict[str, str] = {
    "anthropic": "anthropicApiKey",
    "openai": "openaiApiKey",
    "google": "googleApiKey",
}

SECRETS: tuple[SecretSpec, ...] = (
    SecretSpec("signingKey", "Gateway audit-chain signing key (SECUREYEOMAN_SIGNING_KEY).", 64, 32),
    SecretSpec("tokenSecret", "Gateway JWT secret (SECUREYEOMAN_TOKEN_SECRET).", 64, 32),
    SecretSpec("encryptionKey", "Gateway data encryption key (SECUREYEOMAN_ENCRYPTION_KEY).", 64, 32),
    SecretSpec("adminPassword", "Gateway admin password (SECUREYEOMAN_ADMIN_PASSWORD).", 32, 12),
    SecretSpec("anthropicApiKey", "Anthropic API key; required when aiProvider is anthropic."),
    SecretSpec("openaiApiKey", "OpenAI API key; required when aiProvider is openai."),
    SecretSpec("googleApiKey", "Google Generative AI key; required when aiProvider is google."),
    SecretSpec("grafanaAdminPassword", "Grafana admin password (GF_SECURITY_ADMIN_PASSWORD__FILE).", 32, 12),
    SecretSpec(
        "grafanaSecretKey",
        "Grafana secret_key (GF_SECURITY_SECRET_KEY__FILE): encrypts the secrets Grafana stores in its database.",
        40,
        16,
    ),
    SecretSpec(
        "metricsToken",
        "Admin API key Prometheus sends to the gateway's /metrics (the 0.1.0 gateway demands one).",
    ),
    SecretSpec("alertWebhookUrl", "URL the webhook receiver POSTs alerts to (alertReceivers has webhook)."),
    SecretSpec("alertSlackUrl", "Slack incoming-webhook URL of the slack receiver (alertReceivers has slack)."),
    SecretSpec("alertEmailPassword", "SMTP password of the email receiver (alertReceivers has email)."),
    SecretSpec(
        "alertPagerdutyKey", "PagerDuty Events v2 routing key of the pagerduty receiver (alertReceivers has pagerduty)."
    ),
    SecretSpec(
        "alertHeartbeatUrl",
        "Dead-man's-switch URL the always-firing Watchdog is sent to (alertReceivers has heartbeat).",
    ),
    SecretSpec(
        "remoteWriteCredentials",
        'Credentials of the remoteWrite targets with auth basic or bearer: a JSON object {"<name>": "<credential>"} '
        "(the basic-auth password, or what the store expects after Bearer); each reaches Prometheus as a file.",
    ),
    SecretSpec(
        "backupOffsiteAccessKeyId", "Access key id of the object store off-host backups go to (backupOffsiteEnabled)."
    ),
    SecretSpec("backupOffsiteSecretAccessKey", "Secret access key of the object store off-host backups go to."),
    SecretSpec(
        "backupOffsiteResticPassword",
        "Password of the off-host restic repository (encrypts it; keep a copy outside Pulumi: without it the "
        "off-host backups cannot be read).",
        min_length=16,
    ),
    SecretSpec(
        "alertmanagerPassword",
        "Password of the user `friday` of Alertmanager's API and UI (basic auth; Prometheus and Grafana hold it). "
        "Always generated (pulumi-random makes its bcrypt hash); read it from the state, never set it.",
        32,
        32,
    ),
    SecretSpec(
        "alertmanagerPasswordHash",
        "bcrypt hash of alertmanagerPassword in Alertmanager's web config, derived at deploy; never set it.",
    ),
    SecretSpec(
        "proxyTlsCert",
        "Reverse proxy certificate chain (PEM); required when proxyEnabled and proxyTlsSource is 'secrets'.",
    ),
    SecretSpec(
        "proxyTlsKey",
        "Private key of proxyTlsCert (PEM); required when proxyEnabled and proxyTlsSource is 'secrets'.",
    ),
)

# The credential Prometheus sends to the gateway's /metrics when the stack sets it.
METRICS_TOKEN = "metricsToken"

# Secrets the proxy needs when it serves the operator's certificate.
PROXY_TLS_KEYS: tuple[str, str] = ("proxyTlsCert", "proxyTlsKey")

SECRETS_BY_KEY: dict[str, SecretSpec] = {s.key: s for s in SECRETS}


def secret(key: str) -> SecretSpec:
    try:
        return SECRETS_BY_KEY[key]
    except KeyError:
        raise KeyError(f"no secret named {key!r}; known: {', '.join(sorted(SECRETS_BY_KEY))}") from None


def spec_of(key: str) -> SecretSpec:
    """A secret of the stack file, or one entry of a structured secret (a remote-write target's credential)."""
    if key in SECRETS_BY_KEY:
        return SECRETS_BY_KEY[key]
    name = remote_write.target_of_credential_key(key)
    if name is None:
        raise KeyError(f"no secret named {key!r}; known: {', '.join(sorted(SECRETS_BY_KEY))}")
    return SecretSpec(
        key, f"the credential of remote-write target {name!r} (an entry of {remote_write.CREDENTIALS_KEY})"
    )
