"""Warnings about a stack's monitoring that are not errors: printed by `render` and `check`."""

from __future__ import annotations

from infra import PROJECT
from infra.monitoring import sizing
from infra.settings import Settings
from infra.settings.secrets import METRICS_TOKEN


def monitoring_notes(settings: Settings) -> list[str]:
    notes = []
    if METRICS_TOKEN not in settings.secrets_set:
        notes.append(
            f"{PROJECT}:{METRICS_TOKEN} is not set: Prometheus scrapes the gateway without a credential, "
            "which gateway 0.1.0 refuses (401), so GatewayDown fires. "
            "Create an admin API key in the gateway and set it (the metrics-auth proxy then sends it as X-API-Key): "
            f"`pulumi config set --secret {PROJECT}:{METRICS_TOKEN} --stack {settings.stack}`"
        )
    if not settings.alert_receivers:
        notes.append(
            f"{PROJECT}:alertReceivers is empty: alerts are only visible in Alertmanager's UI, nobody is notified"
        )
    notes += sizing.retention_notes(settings)
    return notes
