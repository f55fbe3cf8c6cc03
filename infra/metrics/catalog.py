"""Catalog of the gateway's Prometheus metrics.

The specification (listed in docs/gateway.md) names the metrics the gateway *should* expose;
``tests/fixtures/gateway-metrics.prom`` is what gateway 0.1.0 *really* exposes. The two
differ, and alerts and dashboards must be written against reality while staying valid when the
gateway catches up. This module is the single list both are checked against: every metric of
either source, with where it comes from.

HELP text is the gateway's own where it exposes the metric (so it matches a scrape), the seed's
otherwise; where the seed's wording or type differs, ``note`` says so.

Pure data: importing this module does no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

MetricType = Literal["counter", "gauge", "summary"]


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    type: MetricType
    help: str
    labels: tuple[str, ...]
    in_seed: bool
    exposed_by_gateway: bool
    note: str = ""


def _real(
    name: str, type_: MetricType, help_: str, note: str = "", *, labels: tuple[str, ...] = (), in_seed: bool = True
) -> Metric:
    """A metric gateway 0.1.0 exposes (HELP and TYPE as in the fixture)."""
    return Metric(name, type_, help_, labels, in_seed, True, note)


def _seed_only(name: str, type_: MetricType, help_: str, note: str) -> Metric:
    """A metric the seed names but gateway 0.1.0 does not expose."""
    return Metric(name, type_, help_, (), True, False, note)


# Exposed metrics in the gateway's exposition order, then the seed-only ones in seed order.
METRICS: tuple[Metric, ...] = (
    _real(
        "friday_tasks_total",
        "gauge",
        "Total number of tasks",
        "Exposed as a gauge; the seed declares a counter ('Total tasks processed'). "
        "Do not rely on counter semantics (rate/increase).",
    ),
    _real("friday_tasks_queue_depth", "gauge", "Current task queue depth"),
    _real("friday_tasks_in_progress", "gauge", "Currently executing tasks", "Seed HELP: 'Tasks currently running'."),
    _real(
        "friday_tasks_success_rate",
        "gauge",
        "Task success rate (0-1)",
        "0 (not 1) while no task has run: alerts need a guard on task activity.",
    ),
    _real(
        "friday_tasks_duration_ms",
        "summary",
        "Task duration percentiles in milliseconds",
        "Not in the seed (which has friday_tasks_avg_duration_ms instead). Quantiles 0.5, "
        "0.95, 0.99 only, no _sum/_count series; always 0 in 0.1.0.",
        labels=("quantile",),
        in_seed=False,
    ),
    _real(
        "friday_tasks_by_status",
        "gauge",
        "Tasks by status",
        "HELP/TYPE without samples until a task exists.",
        labels=("status",),
    ),
    _real("friday_cpu_percent", "gauge", "CPU usage percentage", "Always 0 in 0.1.0."),
    _real(
        "friday_memory_used_mb",
        "gauge",
        "Memory used in MB",
        "Printed with two decimals. In 0.1.0 it is the JavaScript heap only (37.49 MB against 110 MB of "
        "process_rss_bytes in the fixture): memory alerts and panels use the RSS.",
    ),
    _real(
        "friday_tokens_used_today",
        "counter",
        "Tokens used today",
        "Counts the current day (per its HELP): expect resets besides restarts.",
    ),
    _real("friday_cost_usd_today", "gauge", "Cost in USD today", "Printed with four decimals."),
    _real(
        "friday_api_calls_total",
        "counter",
        "Total API calls",
        "Seed HELP: 'Total API calls to AI providers'. Resets on restart.",
    ),
    _real(
        "friday_api_errors_total", "counter", "Total API errors", "Seed HELP: 'Total AI API errors'. Resets on restart."
    ),
    _real(
        "friday_api_latency_avg_ms",
        "gauge",
        "Average API latency in ms",
        "Not in the seed. Printed with two decimals.",
        in_seed=False,
    ),
    _real("friday_auth_attempts_total", "counter", "Total auth attempts", "Stays 0 in 0.1.0."),
    _real(
        "friday_auth_failures_total",
        "counter",
        "Total auth failures",
        "Seed HELP: 'Failed auth attempts'. Stays 0 in 0.1.0, so a brute-force alert "
        "on it cannot fire against that version.",
    ),
    _real(
        "friday_blocked_requests_total",
        "counter",
        "Total blocked requests",
        "Seed HELP: 'Blocked requests'. Equals friday_rate_limit_hits_total in 0.1.0.",
    ),
    _real("friday_rate_limit_hits_total", "counter", "Total rate limit hits", "Seed HELP: 'Rate limit hits'."),
    _real("friday_audit_entries_total", "counter", "Total audit entries", "Seed HELP: 'Total audit log entries'."),
    _real(
        "friday_audit_chain_valid",
        "gauge",
        "Audit chain integrity (1=valid, 0=invalid)",
        "Seed HELP: 'Audit chain integrity (1=valid)'.",
    ),
    _real("process_heap_bytes", "gauge", "Node.js heap usage in bytes", "Not in the seed.", in_seed=False),
    _real("process_rss_bytes", "gauge", "Node.js RSS in bytes", "Not in the seed.", in_seed=False),
    _real(
        "friday_uptime_seconds",
        "gauge",
        "Process uptime in seconds",
        "Not in the seed. Drops to 0 on restart, which is when counters reset.",
        in_seed=False,
    ),
    _seed_only(
        "friday_tasks_avg_duration_ms",
        "gauge",
        "Average task duration in ms",
        "Not exposed; the gateway has the friday_tasks_duration_ms summary instead.",
    ),
    _seed_only(
        "friday_memory_limit_mb",
        "gauge",
        "Memory limit in MB",
        "Not exposed; the infrastructure knows the limit it set and must supply it.",
    ),
    _seed_only(
        "friday_cost_usd_month", "gauge", "Cost in USD this month", "Not exposed; budgets come from the infrastructure."
    ),
    _seed_only("friday_auth_success_total", "counter", "Successful auth attempts", "Not exposed."),
    _seed_only("friday_active_sessions", "gauge", "Active authenticated sessions", "Not exposed."),
    _seed_only("friday_injection_attempts_total", "counter", "Injection attempts detected", "Not exposed."),
)

_BY_NAME: dict[str, Metric] = {m.name: m for m in METRICS}
NAMES: frozenset[str] = frozenset(_BY_NAME)


def by_name(name: str) -> Metric:
    """The catalog entry for ``name``; KeyError naming the metric if it is not catalogued."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(
            f"metric {name!r} is not in the catalog (infra/metrics/catalog.py); "
            "add it there if the gateway or the seed really has it"
        ) from None


def exposed() -> tuple[Metric, ...]:
    """The metrics gateway 0.1.0 really exposes, in exposition order."""
    return tuple(m for m in METRICS if m.exposed_by_gateway)


# --- PromQL metric-name extraction ---------------------------------------------------------
#
# Deliberately not a PromQL parser. It finds identifiers that look like this project's
# metrics: names matching (friday|process)_[A-Za-z0-9_]*. Every catalog name has one of these
# prefixes (a test enforces it). Restrictions, by design:
# - metrics with other prefixes (up, node_*, probe_*) are not reported;
# - names written as {__name__="..."} are not reported (string contents are ignored);
# - recording-rule names containing ':' (job:friday_x:rate5m) are not reported;
# - _bucket/_sum/_count suffixes are kept, so a series the gateway does not expose
#   (e.g. friday_tasks_duration_ms_count) is reported as an unknown name.

# Strings and comments are blanked first: label values and comments may mention metric names.
_STRINGS_AND_COMMENTS = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`|#[^\n]*')
# Label matchers and label lists hold label names, never metric names.
_LABEL_BLOCKS = re.compile(
    r"\{[^{}]*\}"
    r"|\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)",
    re.IGNORECASE,
)
# Not preceded or followed by a word character or ':' so that parts of longer names and of
# recording-rule names do not count.
_NAME = re.compile(r"(?<![\w:])(?:friday|process)_[A-Za-z0-9_]*(?![\w:])")


def metric_names_in_promql(expr: str) -> set[str]:
    """Metric names (catalog-style, see the restrictions above) used in a PromQL expression."""
    text = _STRINGS_AND_COMMENTS.sub(" ", expr)
    text = _LABEL_BLOCKS.sub(" ", text)
    return set(_NAME.findall(text))
