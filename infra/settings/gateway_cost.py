"""What one /metrics call costs gateway 0.1.0, as measured, and every number the stack derives from it.

Each /metrics call re-verifies the whole audit chain (docs/gateway.md) and blocks the gateway's
event loop meanwhile. Measured on the real gateway 0.1.0 under regular scrapes:

- time: 11 to 15 µs per audit entry, linear (3 ms at 7 entries, 1.0 s at 65k, 1.8 s at 115k, 7.3 s at
  500k); the model takes the worst, 15 µs;
- memory: resident memory about 1 GiB at ~350k audit entries and 1.8 GiB at 500k. The model runs
  through the idle gateway, then those two points, and beyond 500k goes on with the steepest
  (last) segment's slope, so it never undershoots a measurement and extrapolates pessimistically;
- `/health` waited up to 9.4 s while a 7.3 s scrape ran (500k): it waits out the scrape, and a bit
  more. The model: a /health during a scrape may take HEALTH_WAIT_FACTOR times that scrape.

The audit log only grows (0.1.0 has no retention), and the entry count is `friday_audit_entries_total`.
From these, for a stack's scrape timeout and memory limit (infra/settings, infra/alerting/rules.py,
the targets' health checks; docs/monitoring.md, "What a scrape costs the gateway"):

- the audit capacity: the entries at which either a scrape reaches the scrape timeout (then every
  scrape fails: GatewayDown) or resident memory reaches the limit (then the kernel kills the
  gateway), whichever comes first; the GatewayAuditLogLarge alert warns and pages at shares of it;
- the default memory limit: enough for the audit capacity of the default scrape timeout, so that with
  the defaults memory never runs out before the scrape timeout is reached;
- the health-check timeout (Docker healthcheck, Kubernetes probes): longer than the longest /health
  wait a scrape up to the timeout causes, so a scrape never fails a liveness probe.

Pure numbers: this module is at the bottom of the layers so the settings' defaults can use it.
"""

from __future__ import annotations

import itertools
import math

# --- Measured (gateway 0.1.0; docs/gateway.md). ---
SCRAPE_SECONDS_PER_ENTRY = 15e-6
# Resident memory (MiB) at audit entry counts: the idle gateway (IDLE_RSS_MIB: 152.4 MiB resident,
# 153 MiB peak, with 4 audit entries after five scrapes, measured with tests/support/real_gateway.py),
# then the two measurements under regular scrapes.
IDLE_RSS_MIB = 153
RSS_MIB_AT: tuple[tuple[int, float], ...] = ((0, IDLE_RSS_MIB), (350_000, 1024.0), (500_000, 1843.2))
# The longest /health wait seen during a scrape, and that scrape's duration.
HEALTH_WAIT_S, HEALTH_WAIT_SCRAPE_S = 9.4, 7.3
HEALTH_WAIT_FACTOR = HEALTH_WAIT_S / HEALTH_WAIT_SCRAPE_S

# --- Defaults the settings take from here. ---
DEFAULT_SCRAPE_INTERVAL = "30s"
DEFAULT_SCRAPE_TIMEOUT_S = 10
# Memory limits are whole multiples of this.
MEMORY_STEP_MIB = 256

# --- Shares of the audit capacity the GatewayAuditLogLarge alert fires at (warning, critical). ---
# Half: as GatewayScrapeSlow (half the timeout) does for the time a scrape takes. The audit log grows
# with use, so half leaves about as long again to act as it took to get there.
AUDIT_WARNING_SHARE = 0.5
# 0.85: the last stretch, where HighMemoryUsage's warning (85% of the limit) would start too.
AUDIT_CRITICAL_SHARE = 0.85


def scrape_seconds(entries: float) -> float:
    """How long one /metrics call blocks the gateway at `entries` audit entries."""
    return entries * SCRAPE_SECONDS_PER_ENTRY


def rss_mib(entries: float) -> float:
    """Resident memory at `entries` audit entries: the measured points joined, the last slope beyond."""
    points = RSS_MIB_AT
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if entries <= x1:
            return y0 + (entries - x0) * (y1 - y0) / (x1 - x0)
    (x0, y0), (x1, y1) = points[-2], points[-1]
    return y1 + (entries - x1) * (y1 - y0) / (x1 - x0)


def entries_at_scrape_timeout(timeout_s: float) -> int:
    """Audit entries at which a scrape takes the whole timeout: past them every scrape fails."""
    return math.floor(timeout_s / SCRAPE_SECONDS_PER_ENTRY)


def entries_at_memory_limit(memory_mib: float) -> int:
    """Audit entries at which the modelled resident memory reaches `memory_mib` (0: not even idle)."""
    if memory_mib <= IDLE_RSS_MIB:
        return 0
    points = RSS_MIB_AT
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if memory_mib <= y1:
            return math.floor(x0 + (memory_mib - y0) * (x1 - x0) / (y1 - y0))
    (x0, y0), (x1, y1) = points[-2], points[-1]
    return math.floor(x1 + (memory_mib - y1) * (x1 - x0) / (y1 - y0))


def audit_capacity(timeout_s: float, memory_mib: float) -> int:
    """Audit entries the gateway can hold with this scrape timeout and memory limit."""
    return min(entries_at_scrape_timeout(timeout_s), entries_at_memory_limit(memory_mib))


def memory_for_timeout(timeout_s: float) -> int:
    """The smallest memory limit (a multiple of MEMORY_STEP_MIB) that holds the audit log up to the
    entries at which a scrape reaches `timeout_s`."""
    return math.ceil(rss_mib(entries_at_scrape_timeout(timeout_s)) / MEMORY_STEP_MIB) * MEMORY_STEP_MIB


def health_timeout_s(scrape_timeout_s: float) -> int:
    """A /health timeout no scrape up to `scrape_timeout_s` can exhaust: the longest wait such a
    scrape causes, in whole seconds, plus one."""
    return math.ceil(scrape_timeout_s * HEALTH_WAIT_FACTOR) + 1


DEFAULT_MEMORY_MIB = memory_for_timeout(DEFAULT_SCRAPE_TIMEOUT_S)
