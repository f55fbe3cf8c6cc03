"""Where a panel behind an alert sends the operator: the alert's runbook section."""

from __future__ import annotations

from infra.alerting.thresholds import Threshold

# The troubleshooting guide of this repository; every runbook link starts here. Change it
# in this one place when the repository moves.
RUNBOOK_BASE_URL = "https://github.com/maccracken/friday-infra/blob/main/docs/troubleshooting.md"


def runbook_url(alert: str) -> str:
    """`docs/troubleshooting.md#<alertname in lower case>` (the guide's heading anchors)."""
    return f"{RUNBOOK_BASE_URL}#{alert.lower()}"


def runbook_link(threshold: Threshold) -> dict[str, object]:
    """A Grafana panel link to the runbook of the alert behind a panel."""
    return {"title": f"Runbook: {threshold.alert}", "url": runbook_url(threshold.alert), "targetBlank": True}
