"""Runbook links on dashboard panels: the same address as the alert's own `runbook_url`
(infra/alerting/runbooks.py)."""

from __future__ import annotations

from infra.alerting.runbooks import runbook_url
from infra.alerting.thresholds import Threshold


def runbook_link(threshold: Threshold) -> dict[str, object]:
    """A Grafana panel link to the runbook of an alert that watches the panel."""
    return {"title": f"Runbook: {threshold.alert}", "url": runbook_url(threshold.alert), "targetBlank": True}
