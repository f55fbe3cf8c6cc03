"""Alert detection latency on a live pipeline, against its floor.

The live tests' stack (testbed/live_stack.py): the gateway double, Debian's Prometheus and
Alertmanager with the RENDERED configs of stack `live`, a webhook receiver, all on 127.0.0.1.
HighQueueDepth's `for` is shortened to localize.FOR_OVERRIDE; the queue depth is driven over
its threshold and the time until the webhook has the alert is measured. The floor is
for + scrape interval + evaluation interval + group_wait: each stage waiting its full interval.

Two settings: the test intervals (1 s scrape, evaluation and group_wait) and the rendered,
production-like ones (the gateway job's 30 s scrape, 15 s evaluation, 30 s group_wait). A fresh
stack per run, so every run's alert opens a new Alertmanager group (group_wait, not
group_interval, applies).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.grafana import duration_ms
from infra.alerting import thresholds
from testbed import localize
from testbed.gateway_double import GatewayDouble
from testbed.live_stack import live_settings, live_stack
from testbed.processes import wait_for

TOKEN = "bench-admin-key-0123456789"
DRIVEN = thresholds.HIGH_QUEUE_DEPTH
MARGIN_S = 60.0


def parse_duration_s(text: str) -> float:
    return duration_ms(text) / 1000


@dataclass(frozen=True)
class Latency:
    setting: str
    runs: int
    median_s: float
    floor_s: float

    @property
    def ratio(self) -> float:
        return self.median_s / self.floor_s


def intervals(test_intervals: bool) -> tuple[float, float, float]:
    """(scrape, evaluation, group_wait) in seconds of the pipeline as it runs. The scrape interval is
    the gateway job's own (gatewayScrapeInterval): the driven metric is the gateway's."""
    if test_intervals:
        short = parse_duration_s(localize.INTERVAL)
        return short, short, short
    s = live_settings()
    return (
        parse_duration_s(s.gateway_scrape_interval),
        parse_duration_s(s.evaluation_interval),
        parse_duration_s(s.alert_group_wait),
    )


def floor_s(test_intervals: bool) -> float:
    return parse_duration_s(localize.FOR_OVERRIDE) + sum(intervals(test_intervals))


def once(tmp: Path, test_intervals: bool) -> float:
    floor = floor_s(test_intervals)
    # On the DOUBLE: the measured alert needs the queue depth over its threshold at a chosen moment,
    # a state the real gateway 0.1.0 cannot be driven into on demand (docs/real-gateway.md).
    with (
        GatewayDouble(token=TOKEN) as gw,
        live_stack(tmp, gw, TOKEN, shorten=DRIVEN.alert, test_intervals=test_intervals) as stack,
    ):
        changed = time.monotonic()
        gw.values.update({"friday_tasks_queue_depth": DRIVEN.value + 30})
        fired = wait_for(
            f"{DRIVEN.alert} at the webhook",
            lambda: stack.receiver.find("/alerts", "firing", DRIVEN.alert, changed),
            floor + MARGIN_S,
            stack.logs,
            poll=0.05,
        )
        return fired.at - changed


def measure(test_intervals: bool, runs: int) -> Latency:
    values = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="friday-bench-latency-") as tmp:
            values.append(once(Path(tmp), test_intervals))
    scrape, evaluation, group_wait = intervals(test_intervals)
    setting = (
        f"gateway scrape {scrape:g} s, evaluation {evaluation:g} s, group_wait {group_wait:g} s, "
        f"for {localize.FOR_OVERRIDE}"
    )
    return Latency(setting, runs, statistics.median(values), floor_s(test_intervals))
