"""Alert thresholds and `for` durations: the one place alerts, dashboards, docs and tests read them.

Fixed values come from the specification (seed Part 1.5). Values that differ per stack (the
memory limit the infrastructure sets, the daily cost budget) live in the stack settings instead.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Threshold:
    alert: str
    value: float
    for_: str
    severity: str


# friday_tasks_success_rate below this, while tasks run.
HIGH_ERROR_RATE = Threshold("HighErrorRate", 0.9, "5m", "warning")
# Gateway memory / the memory limit the infrastructure set.
HIGH_MEMORY_USAGE = Threshold("HighMemoryUsage", 0.85, "10m", "warning")
# rate(friday_auth_failures_total[5m]) above this (failures per second).
AUTH_BRUTE_FORCE = Threshold("AuthBruteForce", 1.0, "2m", "critical")
# friday_audit_chain_valid equal to this.
AUDIT_CHAIN_BROKEN = Threshold("AuditChainBroken", 0.0, "1m", "critical")
# friday_tasks_queue_depth above this.
HIGH_QUEUE_DEPTH = Threshold("HighQueueDepth", 50.0, "5m", "warning")

SEED_THRESHOLDS: tuple[Threshold, ...] = (
    HIGH_ERROR_RATE,
    HIGH_MEMORY_USAGE,
    AUTH_BRUTE_FORCE,
    AUDIT_CHAIN_BROKEN,
    HIGH_QUEUE_DEPTH,
)
