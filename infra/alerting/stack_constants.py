"""The per-stack constants: the recording rules of one stack's settings that the static alerts of
alerts/*.yml join against (`on() group_left()`), and the file Prometheus loads them from.

The alerts (infra/alerting/rules.py) are the same for every stack; what differs per stack (the memory
limit the infrastructure sets, the daily cost budget, the backup age limits, the certificate expiry
days, the SLO's objective) is a constant series named here. Pure data: no I/O, no Pulumi.
"""

from __future__ import annotations

from typing import Any

from infra.alerting import slo
from infra.settings import Settings, gateway_cost
from infra.settings.base import duration_seconds
from infra.settings.offsite import stale_after_hours as offsite_stale_after_hours
from infra.yamlio import dump_readable

# Per-stack constants (recording rules, see stack_constants); names with ':' as recording rules.
MEMORY_LIMIT_MB = "friday:memory_limit_mb"
COST_BUDGET_USD_DAILY = "friday:cost_budget_usd_daily"
BACKUP_STALE_AFTER_SECONDS = "friday:backup_stale_after_seconds"
BACKUP_OFFSITE_STALE_AFTER_SECONDS = "friday:backup_offsite_stale_after_seconds"
GATEWAY_SCRAPE_TIMEOUT_SECONDS = "friday:gateway_scrape_timeout_seconds"
GATEWAY_AUDIT_CAPACITY = "friday:gateway_audit_capacity_entries"
CERT_EXPIRY_WARNING_SECONDS = "friday:cert_expiry_warning_seconds"
CERT_EXPIRY_CRITICAL_SECONDS = "friday:cert_expiry_critical_seconds"


def promql_number(value: float) -> str:
    """A number as PromQL reads it (no float noise, no exponent for the values used here)."""
    return f"{value:.12g}"


_n = promql_number


def stack_constant_exprs(settings: Settings) -> dict[str, str]:
    """{recording rule name: expression} of the per-stack constants."""
    return {
        MEMORY_LIMIT_MB: f"vector({settings.gateway_memory_mb})",
        COST_BUDGET_USD_DAILY: f"vector({_n(settings.cost_budget_usd_daily)})",
        BACKUP_STALE_AFTER_SECONDS: f"vector({settings.backup_stale_after_hours * 3600})",
        BACKUP_OFFSITE_STALE_AFTER_SECONDS: f"vector({offsite_stale_after_hours(settings) * 3600})",
        GATEWAY_SCRAPE_TIMEOUT_SECONDS: f"vector({_n(duration_seconds(settings.gateway_scrape_timeout))})",
        GATEWAY_AUDIT_CAPACITY: f"vector({audit_capacity(settings)})",
    }


def audit_capacity(settings: Settings) -> int:
    """Audit entries this stack's gateway can hold: a scrape within gatewayScrapeTimeout, resident memory
    within gatewayMemoryMb (infra/settings/gateway_cost.py)."""
    return gateway_cost.audit_capacity(duration_seconds(settings.gateway_scrape_timeout), settings.gateway_memory_mb)


def stack_constant_labels(settings: Settings) -> dict[str, str]:
    """Labels of every per-stack constant: the environment, stored like the scrape jobs' target label."""
    return {"environment": settings.environment}


def stack_constants(settings: Settings) -> str:
    """The per-stack recording rules the static alerts join against (alerts join with `on()`; the
    `environment` label lets the dashboards select them by environment like every scraped series)."""
    labels = stack_constant_labels(settings)
    rules: list[dict[str, Any]] = [
        {"record": record, "expr": expr, "labels": labels} for record, expr in stack_constant_exprs(settings).items()
    ]
    # The probe and SLO constants: only the Docker target's Prometheus runs the probes (the
    # Kubernetes target's PrometheusRule takes stack_constant_exprs alone).
    rules += [
        {
            "record": CERT_EXPIRY_WARNING_SECONDS,
            "expr": f"vector({settings.cert_expiry_warning_days * 86400})",
            "labels": labels,
        },
        {
            "record": CERT_EXPIRY_CRITICAL_SECONDS,
            "expr": f"vector({settings.cert_expiry_critical_days * 86400})",
            "labels": labels,
        },
        *slo.constants(settings),
    ]
    header = (
        f"# Constants of stack {settings.stack!r} for the static alerts in alerts/*.yml\n"
        "# (gatewayMemoryMb, costBudgetUsdDaily, backupStaleAfterHours, gatewayScrapeTimeout, the\n"
        "# gateway's audit capacity from those two, certExpiry*Days, the SLO's objective and\n"
        "# burn-rate thresholds), and the SLO rules over\n"
        "# its window (sloWindowDays).\n"
        "# Generated at render/deploy time.\n"
    )
    groups = [{"name": "friday-stack-constants", "rules": rules}, slo.window_group(settings)]
    return header + dump_readable({"groups": groups})
