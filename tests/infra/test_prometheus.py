"""Prometheus scrapes the gateway: its target is up."""

from __future__ import annotations

import time
from typing import Any

from tests.infra import probe
from tests.infra.options import HostConfig

WAIT_S = 30.0


def test_gateway_target_is_up(host: Any, friday: HostConfig) -> None:
    url = f"{friday.prometheus_url}/api/v1/targets?state=active"
    deadline = time.monotonic() + WAIT_S
    seen: list[dict[str, Any]] = []
    while True:
        resp = probe.get(host, url)
        assert resp.status == 200, f"Prometheus {url} answered {resp.status}"
        targets = resp.json()["data"]["activeTargets"]
        seen = [t for t in targets if t["labels"].get("job") == friday.gateway_job]
        # A fresh target is "unknown" until its first scrape: wait for a verdict, bounded.
        if seen and all(t["health"] != "unknown" for t in seen):
            break
        if time.monotonic() > deadline:
            break
        time.sleep(1)
    jobs = sorted({t["labels"].get("job", "") for t in targets})
    assert seen, f"no active target of job {friday.gateway_job!r}; jobs: {jobs}"
    down = [(t["scrapeUrl"], t["health"], t.get("lastError", "")) for t in seen if t["health"] != "up"]
    assert down == [], f"gateway targets not up: {down}"
