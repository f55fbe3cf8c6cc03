"""Time every dashboard refresh against a Prometheus serving the bench's data."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field

import requests

from bench import grafana

RANGES: dict[str, int] = {"24h": 86_400, "7d": 7 * 86_400, "30d": 30 * 86_400}
QUERY_TIMEOUT_S = 60.0


@dataclass
class QueryResult:
    target: grafana.Target
    seconds: list[float] = field(default_factory=list)
    error: str = ""
    series: int = 0

    @property
    def median_s(self) -> float:
        return statistics.median(self.seconds) if self.seconds else float("nan")


@dataclass
class Refresh:
    """One dashboard over one range: every query, timed `repeats` times."""

    dashboard: str
    range_name: str
    queries: list[QueryResult]
    refresh_s: list[float] = field(default_factory=list)

    @property
    def median_s(self) -> float:
        return statistics.median(self.refresh_s)

    def slowest(self, n: int = 5) -> list[QueryResult]:
        return sorted(self.queries, key=lambda q: q.median_s, reverse=True)[:n]

    @property
    def errors(self) -> list[QueryResult]:
        return [q for q in self.queries if q.error]


def _run(session: requests.Session, base: str, req: grafana.Request) -> tuple[float, str, int]:
    started = time.perf_counter()
    response = session.post(f"{base}{req.path}", data=req.params, timeout=QUERY_TIMEOUT_S)
    elapsed = time.perf_counter() - started
    body = response.json()
    if response.status_code != 200 or body.get("status") != "success":
        return elapsed, f"{response.status_code}: {body.get('error', body)}", 0
    return elapsed, "", len(body["data"]["result"])


def _refresh(session: requests.Session, base: str, reqs: list[grafana.Request], refresh: Refresh, timed: bool) -> None:
    total = 0.0
    for req, result in zip(reqs, refresh.queries, strict=True):
        seconds, error, series = _run(session, base, req)
        total += seconds
        if timed:
            result.seconds.append(seconds)
        else:
            result.error, result.series = error, series
    if timed:
        refresh.refresh_s.append(total)


def measure(
    servers: dict[int, str], targets: dict[str, list[grafana.Target]], end_s: int, repeats: int
) -> dict[int, list[Refresh]]:
    """Every dashboard over every range on every server (gateway count -> Prometheus URL): one
    untimed warm-up refresh each, then `repeats` timed rounds in which the servers take turns, so
    a burst of load from other processes hits every setting alike. A refresh's time is the sum of
    its queries run one after another (Grafana sends them in parallel, but on this 2-core machine
    Prometheus' work is what a refresh waits for)."""
    out: dict[int, list[Refresh]] = {n: [] for n in servers}
    with requests.Session() as session:
        for dashboard, dash_targets in targets.items():
            for range_name, range_s in RANGES.items():
                reqs = [grafana.request(t, end_s, range_s) for t in dash_targets]
                refreshes = {n: Refresh(dashboard, range_name, [QueryResult(t) for t in dash_targets]) for n in servers}
                for attempt in range(repeats + 1):
                    for n, base in servers.items():
                        _refresh(session, base, reqs, refreshes[n], timed=attempt > 0)
                for n, refresh in refreshes.items():
                    out[n].append(refresh)
    return out
