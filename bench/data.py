"""Synthetic metrics for the bench: N gateway instances and one monitoring stack, D days.

Shapes, so the TSDB compresses them as it would real data:
- counters only grow (by a random amount per scrape around a daily cycle) and reset to 0 when
  their instance restarts (every few days, at random); `*_today` values also reset at midnight UTC;
- gauges vary every scrape (random walks and daily cycles, with the decimals the gateway prints);
- scrape timestamps are 15 s apart (the rendered scrape interval) with a few milliseconds of jitter.

Every metric gateway 0.1.0 exposes (infra/metrics/catalog.py) is generated per instance, with the
labels the stack's Prometheus gives it (job, instance, service; environment as a stored label);
seed-only metrics the gateway lacks are not, as in reality. The stack side has what its
dashboard reads: Prometheus', Alertmanager's (every integration and failure reason), the backup
tool's, Loki's and Alloy's series, the blackbox exporter's probes, plus `up` and `scrape_*` per target.

Output: OpenMetrics text, one file per 54 h window aligned like promtool's 54 h blocks (promtool
re-reads a file once per block it writes, so one block per file keeps the backfill linear).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from infra.backup import metrics as backup_metrics
from infra.metrics import probes
from infra.metrics.catalog import exposed

SCRAPE_INTERVAL_S = 15
WINDOW_S = 54 * 3600
DAY_S = 86400
ENVIRONMENT = "bench"
GATEWAY_PORT = 18789
# Mean time between restarts of one gateway instance.
RESTART_EVERY_S = 4 * DAY_S

Values = Iterator[str]


@dataclass
class Instance:
    """One scrape target: its labels and the steps (scrape indexes) where it restarted."""

    job: str
    address: str
    restarts: frozenset[int] = frozenset()

    def labels(self, extra: str = "") -> str:
        base = f'environment="{ENVIRONMENT}",instance="{self.address}",job="{self.job}",service="{self.job}"'
        return f"{base},{extra}" if extra else base


@dataclass
class Series:
    name: str
    labels: str
    values: Values


@dataclass
class Timeline:
    start_s: int
    steps: int
    step_s: int = SCRAPE_INTERVAL_S

    def second(self, i: int) -> float:
        return self.start_s + i * self.step_s


@dataclass
class Shapes:
    """Value generators bound to a timeline; each returns an endless iterator of formatted values."""

    timeline: Timeline
    rng: random.Random = field(default_factory=random.Random)

    def _daily(self, i: int) -> float:
        # 0..1, busiest in the afternoon (UTC).
        hour = (self.timeline.second(i) % DAY_S) / 3600
        return 0.5 + 0.5 * math.sin((hour - 9) / 24 * 2 * math.pi)

    def gauge(self, lo: float, hi: float, decimals: int = 2, wobble: float = 0.05) -> Values:
        """A random walk between lo and hi, pulled towards a daily cycle."""
        rng, span = random.Random(self.rng.random()), hi - lo
        value = lo + span * rng.random()
        i = 0
        while True:
            target = lo + span * self._daily(i)
            value += (target - value) * 0.01 + span * wobble * (rng.random() - 0.5)
            value = min(hi, max(lo, value))
            yield f"{value:.{decimals}f}" if decimals else str(round(value))
            i += 1

    def constant(self, value: str) -> Values:
        while True:
            yield value

    def counter(self, per_s: float, restarts: frozenset[int], daily_reset: bool = False, decimals: int = 0) -> Values:
        """Grows by about per_s a second (more in the day's busy hours); 0 after a restart."""
        rng = random.Random(self.rng.random())
        value = 0.0
        step = self.timeline.step_s
        i = 0
        while True:
            second = self.timeline.second(i)
            if i in restarts or (daily_reset and second % DAY_S < step):
                value = 0.0
            else:
                value += per_s * step * (0.2 + 1.6 * self._daily(i)) * rng.random() * 2
            yield f"{value:.{decimals}f}" if decimals else str(int(value))
            i += 1

    def uptime(self, restarts: frozenset[int]) -> Values:
        value = self.rng.randrange(0, DAY_S)
        i = 0
        while True:
            value = 0 if i in restarts else value + self.timeline.step_s
            yield str(value)
            i += 1

    def scrape_duration(self, base_s: float) -> Values:
        rng = random.Random(self.rng.random())
        while True:
            yield f"{base_s * (0.6 + 0.8 * rng.random()):.6f}"


def _restarts(rng: random.Random, steps: int) -> frozenset[int]:
    mean = RESTART_EVERY_S // SCRAPE_INTERVAL_S
    out: set[int] = set()
    i = 0
    while True:
        i += int(rng.expovariate(1 / mean)) + 1
        if i >= steps:
            return frozenset(out)
        out.add(i)


# Gateway metric -> how it moves (per instance). Every exposed catalog metric must be here.
def _gateway_series(shapes: Shapes, gw: Instance) -> list[Series]:
    r = gw.restarts
    g = shapes.gauge
    by_metric: dict[str, list[tuple[str, Values]]] = {
        "friday_tasks_total": [("", shapes.counter(0.5, r))],
        "friday_tasks_queue_depth": [("", g(0, 60, 0))],
        "friday_tasks_in_progress": [("", g(0, 8, 0))],
        "friday_tasks_success_rate": [("", g(0.85, 1, 4, 0.01))],
        "friday_tasks_duration_ms": [(f'quantile="{q}"', g(lo, hi, 0)) for q, lo, hi in _QUANTILES],
        "friday_tasks_by_status": [(f'status="{s}"', shapes.counter(rate, r)) for s, rate in _STATUSES],
        "friday_cpu_percent": [("", g(0, 100, 1))],
        "friday_memory_used_mb": [("", g(30, 120, 2))],
        "friday_tokens_used_today": [("", shapes.counter(40, r, daily_reset=True))],
        "friday_cost_usd_today": [("", shapes.counter(0.0004, r, daily_reset=True, decimals=4))],
        "friday_api_calls_total": [("", shapes.counter(0.3, r))],
        "friday_api_errors_total": [("", shapes.counter(0.01, r))],
        "friday_api_latency_avg_ms": [("", g(200, 2000, 2))],
        "friday_auth_attempts_total": [("", shapes.counter(0.05, r))],
        "friday_auth_failures_total": [("", shapes.counter(0.002, r))],
        "friday_blocked_requests_total": [("", shapes.counter(0.01, r))],
        "friday_rate_limit_hits_total": [("", shapes.counter(0.01, r))],
        "friday_audit_entries_total": [("", shapes.counter(0.8, r))],
        "friday_audit_chain_valid": [("", shapes.constant("1"))],
        "process_heap_bytes": [("", g(30e6, 120e6, 0))],
        "process_rss_bytes": [("", g(90e6, 400e6, 0))],
        "friday_uptime_seconds": [("", shapes.uptime(r))],
    }
    missing = {m.name for m in exposed()} - set(by_metric)
    if missing:
        raise AssertionError(f"bench.data has no shape for catalog metrics {sorted(missing)}")
    return [Series(name, gw.labels(extra), values) for name, parts in by_metric.items() for extra, values in parts]


_QUANTILES = (("0.5", 200, 2000), ("0.95", 1500, 8000), ("0.99", 4000, 20000))
_STATUSES = (("completed", 0.45), ("failed", 0.03), ("cancelled", 0.01), ("timeout", 0.01))
# Alertmanager 0.25's integrations and the failure reasons it counts per integration.
_INTEGRATIONS = [
    "discord",
    "email",
    "msteams",
    "opsgenie",
    "pagerduty",
    "pushover",
    "slack",
    "sns",
    "telegram",
    "victorops",
    "webex",
    "webhook",
    "wechat",
]
_REASONS = ("clientError", "serverError", "other")
# The integrations of the receivers a stack typically enables (webhook and heartbeat are both webhook).
_USED_INTEGRATIONS = frozenset({"webhook", "email", "slack", "pagerduty"})


def _used(integration: str, values: Values, constant: Callable[[str], Values]) -> Values:
    return values if integration in _USED_INTEGRATIONS else constant("0")


_RULE_GROUPS = (
    "/etc/prometheus/rules/gateway.yml;friday-gateway",
    "/etc/prometheus/rules/monitoring.yml;friday-monitoring",
    "/etc/prometheus/rules/backups.yml;friday-backups",
    "/etc/prometheus/rules/dashboards.yml;friday-dashboards",
    "/etc/prometheus/rules/stack-constants.yml;friday-stack-constants",
)
_PROBES = (
    (probes.PROBE_HEALTH, probes.SLO_AVAILABILITY),
    (probes.PROBE_HTTPS, probes.SLO_AVAILABILITY),
    (probes.PROBE_REDIRECT, ""),
    (probes.PROBE_WS_UPGRADE, ""),
)
_LOKI_ROUTES = (
    ("loki_api_v1_push", "POST", ("204", "400", "429", "500")),
    ("loki_api_v1_query_range", "GET", ("200", "400", "500")),
    ("loki_api_v1_query", "GET", ("200", "400")),
    ("loki_api_v1_labels", "GET", ("200",)),
    ("loki_api_v1_label_name_values", "GET", ("200",)),
    ("loki_api_v1_series", "GET", ("200",)),
    ("ready", "GET", ("200", "503")),
    ("metrics", "GET", ("200",)),
)


_REMOTE = 'remote_name="mimir",url="https://mimir.example.org/api/v1/push"'


def _stack_series(shapes: Shapes, stack: dict[str, Instance]) -> list[Series]:
    prom, am, backup, loki, alloy = (stack[k] for k in ("prometheus", "alertmanager", "backup", "loki", "alloy"))
    c, g, k = shapes.counter, shapes.gauge, shapes.constant
    none: frozenset[int] = frozenset()
    alertmanager_url = 'alertmanager="http://alertmanager:9093/api/v2/alerts"'
    out: list[tuple[str, str, Values]] = [
        ("prometheus_tsdb_head_samples_appended_total", prom.labels(), c(60, none)),
        ("prometheus_tsdb_head_series", prom.labels(), g(800, 1200, 0, 0.01)),
        ("prometheus_config_last_reload_successful", prom.labels(), k("1")),
        ("prometheus_notifications_alertmanagers_discovered", prom.labels(), k("1")),
        ("prometheus_notifications_sent_total", prom.labels(alertmanager_url), c(0.07, none)),
        ("prometheus_notifications_errors_total", prom.labels(alertmanager_url), c(0.0001, none)),
        ("prometheus_notifications_dropped_total", prom.labels(), k("0")),
        ("alertmanager_config_last_reload_successful", am.labels(), k("1")),
        *[("alertmanager_alerts", am.labels(f'state="{s}"'), g(0, 5, 0)) for s in ("active", "suppressed")],
        # Alertmanager reports every integration; a stack uses a few (its receivers'), the rest stay 0.
        *[
            ("alertmanager_notifications_total", am.labels(f'integration="{i}"'), _used(i, c(0.01, none), k))
            for i in _INTEGRATIONS
        ],
        *[
            (
                "alertmanager_notifications_failed_total",
                am.labels(f'integration="{i}",reason="{r}"'),
                _used(i, c(0.0005, none), k),
            )
            for i in _INTEGRATIONS
            for r in _REASONS
        ],
        (backup_metrics.LAST_SUCCESS, backup.labels(), _hourly_timestamp(shapes)),
        (backup_metrics.KEPT, backup.labels(), k("7")),
        ("friday_backup_last_duration_seconds", backup.labels(), g(0.5, 5, 3)),
        ("friday_backup_last_size_bytes", backup.labels(), g(1e6, 5e7, 0, 0.001)),
        ("friday_backup_last_attempt_timestamp_seconds", backup.labels(), _hourly_timestamp(shapes)),
        ("friday_backup_failures_total", backup.labels(), k("0")),
        # A stack with off-host copies on (docs/backups.md#off-host-copies).
        (backup_metrics.OFFSITE_LAST_SUCCESS, backup.labels(), _hourly_timestamp(shapes)),
        ("friday_backup_offsite_last_duration_seconds", backup.labels(), g(1, 30, 3)),
        (backup_metrics.OFFSITE_FAILURES, backup.labels(), k("0")),
        # A stack with one remote-write target (docs/monitoring.md#remote-write), keeping up.
        ("prometheus_remote_storage_samples_failed_total", prom.labels(_REMOTE), k("0")),
        ("prometheus_remote_storage_samples_retried_total", prom.labels(_REMOTE), k("0")),
        ("prometheus_remote_storage_highest_timestamp_in_seconds", prom.labels(), _timestamp(shapes, 0)),
        ("prometheus_remote_storage_queue_highest_sent_timestamp_seconds", prom.labels(_REMOTE), _timestamp(shapes, 1)),
        *[
            (
                "loki_request_duration_seconds_count",
                loki.labels(f'method="{m}",route="{r}",status_code="{s}"'),
                c(0.05, none),
            )
            for r, m, statuses in _LOKI_ROUTES
            for s in statuses
        ],
        ("loki_distributor_lines_received_total", loki.labels('tenant="fake"'), c(20, none)),
        *[
            ("alloy_component_controller_running_components", alloy.labels(f'health_type="{h}"'), k(n))
            for h, n in (("healthy", "9"), ("unhealthy", "0"), ("unknown", "0"), ("exited", "0"))
        ],
        ("loki_write_sent_entries_total", alloy.labels('host="loki:3100"'), c(20, none)),
        ("loki_write_dropped_entries_total", alloy.labels('host="loki:3100",reason="rate_limited"'), k("0")),
    ]
    # The blackbox exporter's probes (job probe-<name>); the SLI counts those labelled slo.
    for name, slo_label in _PROBES:
        job = Instance(f"probe-{name}", "gateway:18789")
        labels = f'{probes.PROBE_LABEL}="{name}"' + (f',{probes.SLO_LABEL}="{slo_label}"' if slo_label else "")
        out.append(("probe_success", job.labels(labels), k("1")))
        out.append(("probe_duration_seconds", job.labels(labels), g(0.002, 0.05, 6)))
        if name == probes.PROBE_HTTPS:
            expiry = str(shapes.timeline.start_s + 60 * DAY_S)
            out.append(("probe_ssl_earliest_cert_expiry", job.labels(labels), k(expiry)))
    for group in _RULE_GROUPS:
        label = f'rule_group="{group}"'
        out.append(("prometheus_rule_evaluations_total", prom.labels(label), c(0.4, none)))
        out.append(("prometheus_rule_evaluation_failures_total", prom.labels(label), k("0")))
        out.append(("prometheus_rule_group_last_duration_seconds", prom.labels(label), g(0.0005, 0.01, 6)))
    return [Series(name, labels, values) for name, labels, values in out]


def _timestamp(shapes: Shapes, behind_s: int) -> Values:
    # A Unix time that follows the timeline, behind_s seconds late.
    i = 0
    while True:
        yield str(int(shapes.timeline.second(i)) - behind_s)
        i += 1


def _hourly_timestamp(shapes: Shapes) -> Values:
    # A Unix time that moves once an hour (the newest backup's).
    i = 0
    while True:
        second = shapes.timeline.second(i)
        yield str(int(second - second % 3600))
        i += 1


def _scrape_series(shapes: Shapes, targets: list[Instance]) -> list[Series]:
    out = []
    for t in targets:
        out.append(Series("up", t.labels(), shapes.constant("1")))
        out.append(Series("scrape_duration_seconds", t.labels(), shapes.scrape_duration(0.004)))
        out.append(Series("scrape_samples_scraped", t.labels(), shapes.constant("40")))
    return out


@dataclass
class Dataset:
    """The series of one bench setting and the time they cover."""

    gateways: int
    timeline: Timeline
    series: list[Series]

    @property
    def samples(self) -> int:
        return len(self.series) * self.timeline.steps


def dataset(gateways: int, end_s: int, days: float, seed: int = 15) -> Dataset:
    steps = int(days * DAY_S) // SCRAPE_INTERVAL_S
    timeline = Timeline(end_s - steps * SCRAPE_INTERVAL_S, steps)
    rng = random.Random(seed)
    shapes = Shapes(timeline, rng)
    gws = [Instance("gateway", f"gateway-{n}:{GATEWAY_PORT}", _restarts(rng, steps)) for n in range(1, gateways + 1)]
    stack = {
        job: Instance(job, address)
        for job, address in (
            ("prometheus", "localhost:9090"),
            ("alertmanager", "alertmanager:9093"),
            ("backup", "backup:9108"),
            ("loki", "loki:3100"),
            ("alloy", "alloy:12345"),
        )
    }
    series = [s for gw in gws for s in _gateway_series(shapes, gw)]
    series += _stack_series(shapes, stack)
    series += _scrape_series(shapes, [*gws, *stack.values()])
    # OpenMetrics wants each family's samples together.
    series.sort(key=lambda s: s.name)
    return Dataset(gateways, timeline, series)


def windows(timeline: Timeline) -> Iterator[tuple[int, int]]:
    """(first step, end step) of each 54 h window aligned to the epoch, as promtool's 54 h blocks are."""
    first = 0
    while first < timeline.steps:
        second = timeline.second(first)
        window_end_s = (second // WINDOW_S + 1) * WINDOW_S
        end = min(timeline.steps, math.ceil((window_end_s - timeline.start_s) / timeline.step_s))
        yield first, end
        first = end


def write_window(data: Dataset, first: int, end: int, path: Path, jitter: Callable[[], int]) -> int:
    """One window as OpenMetrics text; returns the number of samples written."""
    tl = data.timeline
    stamps = [f"{tl.start_s + i * tl.step_s}.{jitter():03d}" for i in range(first, end)]
    written = 0
    with path.open("w", encoding="ascii") as out:
        family = None
        for s in data.series:
            if s.name != family:
                out.write(f"# TYPE {s.name} unknown\n")
                family = s.name
            head = f"{s.name}{{{s.labels}}} "
            values = s.values
            out.write("".join([f"{head}{next(values)} {stamp}\n" for stamp in stamps]))
            written += len(stamps)
        out.write("# EOF\n")
    return written


def jitter(seed: int = 15) -> Callable[[], int]:
    """Milliseconds a real scrape's timestamp is off the exact interval (0-4 ms)."""
    rng = random.Random(seed)
    return lambda: rng.randrange(5)
