"""Runbook addresses: where an alert (its `runbook_url` annotation) and the dashboard panels
that watch it (infra/dashboards/links.py) send the operator: the alert's section in the
repository's troubleshooting guide.
"""

from __future__ import annotations

import re

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
