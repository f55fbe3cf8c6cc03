"""The gateway's availability SLO: its SLI, the error-ratio recording rules and the burn-rate
alerts, all generated from one definition (multi-window, multi-burn-rate, as in the Google SRE
workbook's "Alerting on SLOs" chapter).

SLI: at each rule evaluation the gateway counts as up when every probe marked
`slo="availability"` succeeds (its /health from inside the stack with the body checked, and the
public HTTPS endpoint when the proxy runs) and Prometheus can scrape the gateway (`up`). Where no
probe runs (bare metal) `up` alone decides. The error ratio over a window is the share of
evaluations in it that were not up.

Burn rate = error ratio / error budget (1 - objective): 1 spends the budget exactly over the
SLO window. A tier fires when the long AND the short window both burn faster than the tier's
threshold: the long window proves the burn is significant, the short one that it is still going
on (so the alert resets soon after a fix). Each window pair is defined by the share of the whole
budget it catches being spent within its long window (the workbook's 2% in 1h, 5% in 6h, 10% in
1d, 10% in 3d); the threshold scales with the SLO window:

    threshold = budget share * SLO window / long window    (30 days: 14.4, 6, 3, 1; 28 days: 13.44, 5.6, 2.8, 0.93)

A window the SLI does not cover yet overstates: on a Prometheus six hours old the 1d error ratio is
the share of six hours, so a 6-minute outage read as a 1.7% error ratio over "a day" and fired the
ticket. Each pair therefore also asks that its long window be covered: the SLI has at least
COVERAGE_MIN of the samples the long window holds (`window_coverage_<long>`, the count over the long
window against the count over the short one scaled up; no evaluation interval needed, and a restarted
Prometheus keeps its history, so only a young one, or one that was down for long, is held back).
The alert then overstates by at most 1 / COVERAGE_MIN. A new stack's first burn-rate alerts come when
each long window is that full (the 3d pair after about 2.4 days); GatewayDown covers a hard outage
meanwhile.

The thresholds and the objective differ per stack, so they are constants in the stack's
generated rule file (like the other stack constants); the alerts in alerts/slo.yml divide by
them. The error ratio over the SLO window itself (for the remaining budget) needs the window as
a range, so that rule is per stack too.

Pure data: no I/O, no Pulumi.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from infra.alerting import thresholds as t
from infra.metrics import jobs
from infra.metrics.probes import SLO_AVAILABILITY, SLO_LABEL
from infra.settings import Settings

GATEWAY_JOB = jobs.GATEWAY
PREFIX = f"friday:slo_{SLO_AVAILABILITY}"
GOOD = f"{PREFIX}:good"
OBJECTIVE = f"{PREFIX}:objective"
ERROR_BUDGET = f"{PREFIX}:error_budget"
ERROR_RATIO_SLO_WINDOW = f"{PREFIX}:error_ratio_slo_window"
BUDGET_REMAINING = f"{PREFIX}:error_budget_remaining"

_HOURS = {"m": 1 / 60, "h": 1, "d": 24}


def hours(window: str) -> float:
    n, unit = re.fullmatch(r"([0-9]+)([mhd])", window).groups()  # type: ignore[union-attr]
    return int(n) * _HOURS[unit]


def error_ratio(window: str) -> str:
    return f"{PREFIX}:error_ratio_{window}"


def burn_rate(window: str) -> str:
    return f"{PREFIX}:burn_rate_{window}"


def burn_threshold(long: str) -> str:
    return f"{PREFIX}:burn_threshold_{long}"


def coverage(long: str) -> str:
    return f"{PREFIX}:window_coverage_{long}"


# How much of its long window the SLI must cover before a pair may fire. Not 1: a range includes
# both of its ends on Prometheus 2 and only the newer one on 3, so a full 1h window at one sample a
# minute counts 61 samples against 12 x 6 = 72 from its 5m window (0.85); a whole window never
# reads lower than that at one sample a minute or faster.
COVERAGE_MIN = 0.8


@dataclass(frozen=True)
class WindowPair:
    long: str
    short: str
    # Share of the SLO window's whole error budget this pair catches being spent within `long`.
    budget_share: float

    def threshold(self, window_days: int) -> float:
        return self.budget_share * window_days * 24 / hours(self.long)

    def coverage_expr(self) -> str:
        """Samples of the SLI in the long window over those a full long window holds, estimated
        from the short window (the SLI is recorded at every evaluation)."""
        scale = hours(self.long) / hours(self.short)
        return f"count_over_time({GOOD}[{self.long}])\n/ (count_over_time({GOOD}[{self.short}]) * {scale:g})"


@dataclass(frozen=True)
class BurnAlert:
    threshold: t.Threshold
    pairs: tuple[WindowPair, ...]
    action: str  # what the tier asks of an operator


# The workbook's recommended tiers: two that page, two that open a ticket.
PAGE = BurnAlert(t.ERROR_BUDGET_BURN_FAST, (WindowPair("1h", "5m", 0.02), WindowPair("6h", "30m", 0.05)), "page")
TICKET = BurnAlert(t.ERROR_BUDGET_BURN_SLOW, (WindowPair("1d", "2h", 0.10), WindowPair("3d", "6h", 0.10)), "ticket")
BURN_ALERTS: tuple[BurnAlert, ...] = (PAGE, TICKET)
PAIRS: tuple[WindowPair, ...] = tuple(p for a in BURN_ALERTS for p in a.pairs)
# Every window a burn rate is recorded for, shortest first.
WINDOWS: tuple[str, ...] = tuple(sorted({w for p in PAIRS for w in (p.long, p.short)}, key=hours))


def good_expr() -> str:
    # `or` keeps both (their label sets differ), min() is 0 when any of them is 0; by (environment):
    # the stored target label every job carries, so dashboards select the SLO by environment.
    return f'min by (environment) (probe_success{{{SLO_LABEL}="{SLO_AVAILABILITY}"}} or up{{job="{GATEWAY_JOB}"}})'


def recording_rules() -> list[dict[str, str]]:
    """The SLI and its error ratio and burn rate over every window the alerts need (static)."""
    rules = [{"record": GOOD, "expr": good_expr()}]
    rules += [{"record": error_ratio(w), "expr": f"1 - avg_over_time({GOOD}[{w}])"} for w in WINDOWS]
    rules += [{"record": burn_rate(w), "expr": f"{error_ratio(w)} / {ERROR_BUDGET}"} for w in WINDOWS]
    rules += [{"record": coverage(p.long), "expr": p.coverage_expr()} for p in PAIRS]
    return rules


def _over(rate: str, long: str) -> str:
    return f"{rate} / on() group_left() {burn_threshold(long)} > {t.ERROR_BUDGET_BURN_FAST.value:g}"


def alert_expr(alert: BurnAlert) -> str:
    """(long over threshold and short over threshold and long window covered) or (...) for each
    pair of the tier."""
    parts = [
        f"(\n  {_over(burn_rate(p.long), p.long)}\nand\n  {_over(burn_rate(p.short), p.long)}\n"
        f"and\n  {coverage(p.long)} >= {COVERAGE_MIN:g}\n)"
        for p in alert.pairs
    ]
    return "\nor\n".join(parts) + "\n"


def objective_ratio(settings: Settings) -> float:
    return round(settings.slo_availability_objective / 100, 6)


def constants(settings: Settings) -> list[dict[str, Any]]:
    """Per-stack constants the SLO rules join against."""
    objective = objective_ratio(settings)
    rules = [
        {"record": OBJECTIVE, "expr": f"vector({objective:.12g})"},
        {"record": ERROR_BUDGET, "expr": f"vector({round(1 - objective, 6):.12g})"},
    ]
    rules += [
        {"record": burn_threshold(p.long), "expr": f"vector({round(p.threshold(settings.slo_window_days), 6):.12g})"}
        for p in PAIRS
    ]
    # The environment the SLI carries (min by (environment)): the error ratio / budget divisions
    # match on it, and the dashboards select by it.
    return [{**rule, "labels": {"environment": settings.environment}} for rule in rules]


def window_group(settings: Settings) -> dict[str, Any]:
    """Per-stack rules over the SLO window itself (its length is a setting): the error ratio so far
    and the share of the error budget left."""
    days = f"{settings.slo_window_days}d"
    return {
        "name": "friday-slo-window",
        "rules": [
            {"record": ERROR_RATIO_SLO_WINDOW, "expr": f"1 - avg_over_time({GOOD}[{days}])"},
            {"record": BUDGET_REMAINING, "expr": f"1 - {ERROR_RATIO_SLO_WINDOW} / {ERROR_BUDGET}"},
        ],
    }
