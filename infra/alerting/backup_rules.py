"""BackupStale: the rule file and its promtool unit test, both pure functions of the settings.

The age limit is the stack setting backupStaleAfterHours (it depends on the backup interval);
the `for` duration and severity are fixed here. The test is generated from the same numbers,
so it checks the rule Prometheus will really evaluate: silent before the limit, firing after
it, firing when the metric is absent (the backup service is gone), silent while backups run.
"""

from __future__ import annotations

from typing import Any

import yaml

from infra.backup.metrics import LAST_SUCCESS
from infra.settings import Settings

ALERT = "BackupStale"
FOR = "10m"
FOR_MINUTES = 10
SEVERITY = "warning"
RUNBOOK_URL = "docs/backups.md#backupstale"
RULE_FILE = "alerts/backups.yml"
TEST_FILE = "alerts/tests/backups.test.yml"


def stale_seconds(settings: Settings) -> int:
    return settings.backup_stale_after_hours * 3600


def expr(settings: Settings) -> str:
    # max(): one value however many backup services report; absent(): no backup service at all
    # (stopped, or never deployed) must not read as "backups are fine".
    return f"time() - max({LAST_SUCCESS}) > {stale_seconds(settings)} or absent({LAST_SUCCESS})"


def rules(settings: Settings) -> dict[str, Any]:
    hours = settings.backup_stale_after_hours
    return {
        "groups": [
            {
                "name": "friday_backups",
                "rules": [
                    {
                        "alert": ALERT,
                        "expr": expr(settings),
                        "for": FOR,
                        "labels": {"severity": SEVERITY},
                        "annotations": {
                            "summary": f"No complete backup of the gateway databases for more than {hours}h",
                            "description": (
                                f"The newest complete backup is older than {hours}h (backups run every "
                                f"{settings.backup_interval_hours}h), or no backup metrics are scraped at all. "
                                "A restore now would lose everything written since."
                            ),
                            "runbook_url": RUNBOOK_URL,
                        },
                    }
                ],
            }
        ]
    }


def unit_test(settings: Settings) -> dict[str, Any]:
    """promtool test for `rules`: 1-minute steps, a backup at minute 60, then none."""
    stale_min = stale_seconds(settings) // 60
    last = 60 + stale_min + FOR_MINUTES + 30
    first_backup = 60 * 60  # value of the metric after the backup at minute 60
    labels = {"severity": SEVERITY}
    annotations = rules(settings)["groups"][0]["rules"][0]["annotations"]

    def at(minutes: int, firing: bool) -> dict[str, Any]:
        alerts = [{"exp_labels": labels, "exp_annotations": annotations}] if firing else []
        return {"eval_time": f"{minutes}m", "alertname": ALERT, "exp_alerts": alerts}

    return {
        "rule_files": ["../backups.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                # Last success 0 until minute 60 (no backup yet), then the backup of minute 60.
                "interval": "1m",
                "input_series": [{"series": LAST_SUCCESS, "values": f"0x59 {first_backup}x{last}"}],
                "alert_rule_test": [
                    at(61, False),
                    at(60 + stale_min - 1, False),
                    # Older than the limit, but not yet for FOR: pending, not firing.
                    at(60 + stale_min + FOR_MINUTES // 2, False),
                    at(60 + stale_min + FOR_MINUTES + 2, True),
                ],
            },
            {
                # A backup every 60 minutes keeps it silent for longer than the limit.
                "interval": "1m",
                "input_series": [
                    {
                        "series": LAST_SUCCESS,
                        "values": " ".join(f"{h * 3600}x59" for h in range(0, (last // 60) + 2)),
                    }
                ],
                "alert_rule_test": [at(last, False)],
            },
            {
                # No backup metrics at all: absent() fires after FOR.
                "interval": "1m",
                "input_series": [{"series": "up{job='other'}", "values": f"1x{FOR_MINUTES * 3}"}],
                "alert_rule_test": [at(FOR_MINUTES * 2, True)],
            },
        ],
    }


def artefacts(settings: Settings) -> dict[str, str]:
    return {
        RULE_FILE: yaml.safe_dump(rules(settings), sort_keys=False, width=1000),
        TEST_FILE: yaml.safe_dump(unit_test(settings), sort_keys=False, width=1000),
    }
