"""Readers of the gateway log keep its plain-text lines deliberately (docs/gateway.md, Logs).

The log they read is the REAL gateway 0.1.0's own stdout (tests/support/real_gateway.py): one start
at debug, a few numbered requests, a SIGTERM; its banner, pino lines and stop lines are what it
printed, not a model of them. Torn lines and NUL holes are made by hand: only a broken writer or a
truncation makes them, never the gateway on demand."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
import requests

from infra.host import layout
from infra.logs.lines import classify, records
from tests.support import rotation
from tests.support.real_gateway import RealGateway

COUNT = 5
STOP_LINES = ["Received SIGTERM, shutting down...", "Shutdown complete."]


def request_line(seq: int) -> str:
    return json.dumps({"level": "debug", "time": "2026-11-24T15:47:56.845Z", "url": f"/health?seq={seq}"})


@pytest.fixture(scope="module")
def real_log(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The real gateway's stdout from start to stop: COUNT numbered requests, logged at debug."""
    with RealGateway.start(tmp_path_factory.mktemp("gateway"), level="debug") as gw:
        with requests.Session() as session:
            for seq in range(COUNT):
                session.get(f"{gw.url}/health", params={"seq": seq}, timeout=10).raise_for_status()
        assert gw.signal(signal.SIGTERM) == 0
        return gw.log()


@pytest.mark.live
def test_the_real_gateways_log_keeps_every_line_and_classifies_it(real_log: str) -> None:
    lines = real_log.splitlines()
    kinds = [classify(line).kind for line in lines]
    assert "broken" not in kinds, [line for line in lines if classify(line).kind == "broken"]
    # Its text, judged without classify: every line that is not a JSON object.
    plain = [line for line in lines if not line.startswith("{")]
    assert [kind for line, kind in zip(lines, kinds, strict=True) if not line.startswith("{")] == ["text"] * len(plain)
    # A blank line and the 10-line banner at start; a blank line and the two stop lines at the end.
    assert len(plain) == 11 + 3, plain
    assert plain[0] == "" and any("SecureYeoman v" in line for line in plain[1:11]), plain[:11]
    assert plain[11:] == ["", *STOP_LINES], plain[11:]
    # Every JSON line is a record, and the numbered requests are there, in order.
    assert len(records(real_log)) == sum(1 for line in lines if line.startswith("{"))
    urls = [r["url"] for r in records(real_log) if str(r.get("url", "")).startswith("/health?seq=")]
    assert urls == [f"/health?seq={seq}" for seq in range(COUNT)]


def test_torn_json_and_nul_holes_are_broken_not_text() -> None:
    assert classify('{"level":"debug","ti').kind == "broken"
    assert classify('me":"2026-11-24T15:47:56.845Z","msg":"x"}').kind == "broken"
    assert classify("\0\0\0" + request_line(1)).kind == "broken"


@pytest.mark.live
def test_rotation_measurement_counts_banner_and_stop_lines_as_text_not_corruption(
    real_log: str, tmp_path: Path
) -> None:
    (tmp_path / layout.LOG_NAME).write_text(real_log)
    seen, corrupted, other = rotation.count_lines(tmp_path, COUNT, rotation.request_seq)
    assert sorted(seen) == list(range(COUNT))
    assert corrupted == 0
    # Blank lines are skipped as empty; the banner and stop lines, and the JSON lines without a
    # number (start, health checks, shutdown), are "other", counted here without classify.
    lines = [line for line in real_log.splitlines() if line]
    text = [line for line in lines if not line.startswith("{")]
    unnumbered = [line for line in lines if line.startswith("{") and "/health?seq=" not in line]
    assert len(text) == 8 + 2
    assert other == len(text) + len(unnumbered)
