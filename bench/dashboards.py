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


def measure(base: str, targets: dict[str, list[grafana.Target]], end_s: int, repeats: int) -> list[Refresh]:
    """Every dashboard over every range: one untimed warm-up refresh, then `repeats` timed ones.
    A refresh's time is the sum of its queries run one after another (Grafana sends them in
    parallel, but on this 2-core machine Prometheus' work is what a refresh waits for)."""
    out = []
    with requests.Session() as session:
        for dashboard, dash_targets in targets.items():
            for range_name, range_s in RANGES.items():
                requests_ = [grafana.request(t, end_s, range_s) for t in dash_targets]
                refresh = Refresh(dashboard, range_name, [QueryResult(t) for t in dash_targets])
                for attempt in range(repeats + 1):
                    total = 0.0
                    for req, result in zip(requests_, refresh.queries, strict=True):
                        seconds, error, series = _run(session, base, req)
                        total += seconds
                        if attempt == 0:
                            result.error, result.series = error, series
                        else:
                            result.seconds.append(seconds)
                    if attempt:
                        refresh.refresh_s.append(total)
                out.append(refresh)
    return out
