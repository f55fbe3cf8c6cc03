"""Readers of the gateway log keep its plain-text lines deliberately (docs/gateway.md, Logs)."""

from __future__ import annotations

import json
from pathlib import Path

from infra.host import layout
from infra.logs.lines import classify, records
from tests.support import rotation
from tests.support.gateway_double import STOP_LINES, banner


def request_line(seq: int) -> str:
    return json.dumps({"level": "debug", "time": "2026-11-24T15:47:56.845Z", "url": f"/health?seq={seq}"})


def fresh_log(count: int) -> str:
    """A log as a fresh start writes it: blank line and banner first, then JSON, then the stop lines."""
    lines = [*banner("http://127.0.0.1:18789"), *(request_line(i) for i in range(count))]
    lines += [STOP_LINES[0].format(signal="SIGTERM"), STOP_LINES[1]]
    return "\n".join(lines) + "\n"


def test_a_log_that_starts_with_the_banner_keeps_every_line_and_classifies_it() -> None:
    text = fresh_log(3)
    kinds = [classify(line).kind for line in text.splitlines()]
    assert kinds[:11] == ["text"] * 11  # the blank line and the ten banner lines
    assert kinds[11:14] == ["json"] * 3
    assert kinds[14:] == ["text", "text"]
    assert [r["url"] for r in records(text)] == ["/health?seq=0", "/health?seq=1", "/health?seq=2"]


def test_torn_json_and_nul_holes_are_broken_not_text() -> None:
    assert classify('{"level":"debug","ti').kind == "broken"
    assert classify('me":"2026-11-24T15:47:56.845Z","msg":"x"}').kind == "broken"
    assert classify("\0\0\0" + request_line(1)).kind == "broken"


def test_rotation_measurement_counts_banner_and_stop_lines_as_text_not_corruption(tmp_path: Path) -> None:
    (tmp_path / layout.LOG_NAME).write_text(fresh_log(5))
    seen, corrupted, other = rotation.count_lines(tmp_path, 5, rotation.double_seq)
    assert sorted(seen) == [0, 1, 2, 3, 4]
    assert corrupted == 0
    # The blank lines (the first and two in the banner) are skipped as empty; banner and stop lines are text.
    assert other == 8 + 2
