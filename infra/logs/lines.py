"""The gateway's stdout, line by line: pino JSON objects, and the plain text it prints around them.

The 0.1.0 gateway prints a blank line and a 10-line text banner when it starts, and
`Received SIGTERM, shutting down...` and `Shutdown complete.` when it stops (docs/gateway.md).
Every reader of its log (host checks, the rotation measurement; Alloy does the same in its own
pipeline, see infra/logs/pipeline.py) keeps such lines as text instead of failing on them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

# The level label a line gets when it is not a JSON object (Alloy's pipeline uses the same word).
UNPARSED = "unparsed"


@dataclass(frozen=True)
class LogLine:
    kind: Literal["json", "text", "broken"]
    text: str
    record: dict[str, Any] | None = None


def classify(text: str) -> LogLine:
    """json: one JSON object (a pino line); text: a line the gateway prints as plain text (blank,
    banner, stop messages); broken: a piece of a JSON line (a torn write) or a line with NUL bytes
    (a writer that kept its offset after a truncation)."""
    stripped = text.rstrip("\r\n")
    if stripped.startswith("{"):
        try:
            record = json.loads(stripped)
        except ValueError:
            return LogLine("broken", stripped)
        return LogLine("json", stripped, record) if isinstance(record, dict) else LogLine("broken", stripped)
    if "\0" in stripped or stripped.endswith("}") or '":' in stripped:
        return LogLine("broken", stripped)
    return LogLine("text", stripped)


def records(text: str) -> list[dict[str, Any]]:
    """The JSON records of a log text, in order; text lines skipped on purpose, broken ones too."""
    return [line.record for line in map(classify, text.splitlines()) if line.record is not None]
