"""The availability dashboard: the SLO (SLI, remaining error budget, burn rates) and the probes behind it.

Every SLO series is a recording rule of infra/alerting/slo.py (the error ratios and burn rates of
alerts/slo.yml, the per-stack objective, budget and thresholds, the window rules), so a panel
shows exactly what the burn-rate alerts judge.
"""

from __future__ import annotations

from infra.alerting import slo
from infra.alerting.stack_constants import CERT_EXPIRY_CRITICAL_SECONDS, CERT_EXPIRY_WARNING_SECONDS
from infra.alerting.thresholds import (
    CERT_EXPIRING,
    CERT_EXPIRING_CRITICAL,
    ERROR_BUDGET_BURN_FAST,
    ERROR_BUDGET_BURN_SLOW,
    PROBE_FAILING,
    WEBSOCKET_NOT_UPGRADING,
)
from infra.dashboards import scope
from infra.dashboards.model import Dashboard, Panel, Query, Row, Step, Variable, needs_probes
from infra.metrics.probes import PROBE_HTTPS, PROBE_LABEL

UID = "friday-slo"
ENV = f'environment=~"$environment", {scope.STACK_MATCHER}'
DAY = 86400


def _series(name: str) -> str:
    return f"max({name}{{{ENV}}})"


AVAILABILITY = f"1 - {_series(slo.ERROR_RATIO_SLO_WINDOW)}"
BUDGET_REMAINING = _series(slo.BUDGET_REMAINING)
CERT_DAYS_LEFT = f'(probe_ssl_earliest_cert_expiry{{{PROBE_LABEL}="{PROBE_HTTPS}",{ENV}}} - time()) / {DAY}'

SLO_ROW = Row(
    "Availability SLO",
    (
        Panel(
            "Availability over the SLO window",
            "stat",
            (Query(AVAILABILITY, "availability"), Query(_series(slo.OBJECTIVE), "objective")),
            "Share of rule evaluations in the last sloWindowDays days at which every SLO probe succeeded and "
            "Prometheus could scrape the gateway, next to the objective (sloAvailabilityObjective).",
            unit="percentunit",
            width=6,
            alerts=(ERROR_BUDGET_BURN_FAST, ERROR_BUDGET_BURN_SLOW),
        ),
        Panel(
            "Error budget remaining",
            "stat",
            (Query(BUDGET_REMAINING, "remaining"),),
            "Share of the SLO window's error budget not yet spent: 100% with no failure, 0% when the errors "
            "equal the budget, negative once it is overspent.",
            unit="percentunit",
            width=6,
            steps=(Step(None, "red"), Step(0, "orange"), Step(0.25, "green")),
            alerts=(ERROR_BUDGET_BURN_FAST, ERROR_BUDGET_BURN_SLOW),
        ),
        Panel(
            "Error ratio (SLI)",
            "timeseries",
            (
                *(Query(_series(slo.error_ratio(w)), f"error ratio {w}") for w in ("5m", "1h", "1d")),
                Query(_series(slo.ERROR_BUDGET), "error budget (1 - objective)"),
            ),
            "Share of failed evaluations over 5 minutes, 1 hour and 1 day, against the error budget: "
            "staying above the budget line spends it faster than the window allows.",
            unit="percentunit",
            width=12,
            min=0,
        ),
        Panel(
            "Burn rates and their alert thresholds",
            "timeseries",
            (
                *(Query(_series(slo.burn_rate(p.long)), f"burn rate {p.long}") for p in slo.PAIRS),
                *(
                    Query(_series(slo.burn_threshold(p.long)), f"threshold {p.long} ({a.action})")
                    for a in slo.BURN_ALERTS
                    for p in a.pairs
                ),
            ),
            "Error ratio divided by the error budget over each long window (1 spends the budget exactly "
            "over the SLO window), with each window's threshold: a burn-rate alert fires when the long "
            "and its short window are both above the threshold.",
            width=24,
            min=0,
        ),
    ),
)

PROBES = Row(
    "Probes",
    (
        Panel(
            "Probe results",
            "stat",
            (Query(f"probe_success{{{ENV}}}", f"{{{{{PROBE_LABEL}}}}}"),),
            "The last result of each blackbox probe: ok, or FAILED.",
            width=8,
            steps=(Step(None, "red"), Step(1, "green")),
            value_text={1: ("ok", "green"), 0: ("FAILED", "red")},
            alerts=(PROBE_FAILING, WEBSOCKET_NOT_UPGRADING),
            no_data=needs_probes(),
        ),
        Panel(
            "Probe duration",
            "timeseries",
            (Query(f"probe_duration_seconds{{{ENV}}}", f"{{{{{PROBE_LABEL}}}}}"),),
            "How long each probe took; close to probeTimeoutSeconds means it is about to fail on time.",
            unit="s",
            width=8,
            min=0,
            no_data=needs_probes(),
        ),
        Panel(
            "Certificate days left",
            "timeseries",
            (
                Query(CERT_DAYS_LEFT, "days left"),
                Query(f"{_series(CERT_EXPIRY_WARNING_SECONDS)} / {DAY}", "warning (certExpiryWarningDays)"),
                Query(f"{_series(CERT_EXPIRY_CRITICAL_SECONDS)} / {DAY}", "critical (certExpiryCriticalDays)"),
            ),
            "Days until the earliest expiry in the certificate chain the public HTTPS probe sees, against "
            "the stack's two CertificateExpiring limits.",
            unit="d",
            width=8,
            min=0,
            alerts=(CERT_EXPIRING, CERT_EXPIRING_CRITICAL),
            no_data=needs_probes(),
        ),
    ),
)

DASHBOARD = Dashboard(
    uid=UID,
    title="F.R.I.D.A.Y. availability",
    description="The gateway's availability SLO as clients see it: SLI, remaining error budget, burn rates, "
    "and the blackbox probes behind them.",
    tags=("friday", "slo"),
    rows=(SLO_ROW, PROBES),
    variables=(Variable("environment", "Environment", f"label_values(up{{{scope.STACK_MATCHER}}}, environment)"),),
)
