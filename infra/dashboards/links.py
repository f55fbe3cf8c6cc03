"""Runbook links: where an alert and the panels that watch it send the operator.

One address for alerts (their `runbook_url` annotation) and dashboards (panel links): the
alert's section in the repository's troubleshooting guide.
"""

from __future__ import annotations

import re

from infra.alerting.thresholds import Threshold

# The troubleshooting guide of this repository; every runbook link starts here. Change it
# in this one place when the repository moves.
RUNBOOK_BASE_URL = "https://github.com/maccracken/friday-infra/blob/main/docs/troubleshooting.md"


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading: lower case, punctuation dropped, spaces to '-'."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def runbook_url(alert: str) -> str:
    """`docs/troubleshooting.md#<anchor of the alert's heading>` (each alert has a `### <name>` section)."""
    return f"{RUNBOOK_BASE_URL}#{github_anchor(alert)}"


def runbook_link(threshold: Threshold) -> dict[str, object]:
    """A Grafana panel link to the runbook of an alert that watches the panel."""
    return {"title": f"Runbook: {threshold.alert}", "url": runbook_url(threshold.alert), "targetBlank": True}
