"""Every dashboard query against a real Prometheus scraping the REAL gateway 0.1.0 and the backup service.

The stack's RENDERED monitoring runs on 127.0.0.1 (testbed/live_stack.py: Debian's
Prometheus and Alertmanager with the rendered configs, localized; the backup service's own
`serve` command on the gateway's data folder; 1 s scrape and rule interval), Prometheus scraping
the real gateway (tests/support/real_gateway.py, idle) with an admin API key created through its
API (as gateway 0.1.0 demands, through the rendered metrics-auth proxy), itself, Alertmanager and
the backup service. So the series have the stack's own labels (job = service name plus `service`
and `environment` target labels: `environment` is stored with every series, not only an external
label) and the per-stack constants come from the rendered rules/stack-constants.yml. Then each
panel's PromQL, template variables substituted, runs through the HTTP API, once with "All"
environments and once with the stack's own environment selected. Panels that cannot have data
here (seed metrics gateway 0.1.0 lacks; a metric an idle gateway has no sample of; Loki, Alloy and
the blackbox exporter, which do not run here) are listed below, and they must be the only ones
without data, and exactly the panels the definitions mark (their list is in docs/dashboards.md).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from infra.alerting import recording
from infra.dashboards import gateway, scope, slo, stack
from infra.dashboards.datasources import PROMETHEUS
from infra.dashboards.files import DASHBOARDS
from infra.dashboards.model import Panel, Query, substitute
from infra.logs.lines import records
from testbed.live_stack import LiveStack, live_settings, live_stack
from testbed.processes import wait_for
from tests.support.real_gateway import RealGateway

pytestmark = pytest.mark.live

ALL = ".*"
START_TIMEOUT_S = 30.0
SCRAPES_WANTED = 3
# API keys created to move the audit log (each creation is one audit entry).
AUDITED_ACTIONS = 5

# (dashboard uid, panel title) of every panel expected to stay empty here, and why.
EXPECTED_WITHOUT_DATA = {
    (gateway.UID, "Average task duration"): "friday_tasks_avg_duration_ms not exposed by 0.1.0",
    (gateway.UID, "Tasks by status"): "friday_tasks_by_status has no sample before the first task (idle gateway)",
    (gateway.UID, "Cost this month"): "friday_cost_usd_month not exposed by 0.1.0",
    (gateway.UID, "Successful logins and active sessions"): "seed metrics not exposed by 0.1.0",
    (gateway.UID, "Injection attempts"): "friday_injection_attempts_total not exposed by 0.1.0",
    (gateway.UID, "Gateway warnings and errors"): "Loki does not run here",
    (stack.UID, "Loki lines received"): "Loki does not run here",
    (stack.UID, "Loki requests by status"): "Loki does not run here",
    (stack.UID, "Alloy components"): "Alloy does not run here",
    (stack.UID, "Alloy log entries to Loki"): "Alloy does not run here",
    (stack.UID, "Off-host copy age and BackupOffsiteStale limit"): "off-host copies are off here",
    (stack.UID, "Off-host copy failures (1 d)"): "off-host copies are off here",
    (
        stack.UID,
        "Remote write failures and lag",
    ): "no remote-write targets here (tests/live/test_remote_write.py has them)",
    (slo.UID, "Probe results"): "no blackbox exporter here (tests/probes/ runs it)",
    (slo.UID, "Probe duration"): "no blackbox exporter here",
    (slo.UID, "Certificate days left"): "no blackbox exporter here",
}


@dataclass
class Live:
    stack: LiveStack
    gateway_instance: str
    gateway: RealGateway

    @property
    def prometheus(self) -> str:
        return self.stack.prometheus

    def query(self, expr: str) -> list[dict[str, Any]]:
        return self.stack.query(expr)

    def variables(self, environment: str = ALL) -> dict[str, str]:
        # environment: the "All" value (allValue), or a concrete environment.
        return {
            "environment": environment,
            "instance": self.gateway_instance,
            "__rate_interval": "1m",
            **scope.EVERY_STACK,  # the committed dashboards' values: one stack per Prometheus
        }


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp: Path = tmp_path_factory.mktemp("live-dashboards")
    environment = live_settings().gateway_environment_value
    # Debug level: the gateway logs every request, so the test sees the scrapes arrive.
    with RealGateway.start(tmp / "gateway", environment=environment, level="debug") as gw:
        key = gw.create_api_key("admin", name="metrics-auth")
        with live_stack(tmp, gw, key, data_dir=gw.data_dir) as running:
            # The gateway job's instance names the gateway, whichever address Prometheus scrapes.
            live = Live(running, f"gateway:{running.settings.gateway_port}", gw)
            _wait_for_scrapes(live)
            yield live


def _wait_for_scrapes(live: Live) -> None:
    """Until every job has a few successful scrapes, the constants rule has been evaluated and
    Alertmanager has delivered (its notification recordings leave out unused integrations)."""

    def enough() -> bool:
        up = live.query("count_over_time(up[1m]) * on(job, instance) group_left() up")
        by_job = {r["metric"]["job"]: float(r["value"][1]) for r in up}
        return (
            set(by_job) == live.stack.jobs
            and min(by_job.values()) >= SCRAPES_WANTED
            and bool(live.query("friday:memory_limit_mb"))
            and bool(live.query("friday:slo_availability:error_budget_remaining"))
            # Recorded only once an integration has delivered (the Watchdog, seconds after start).
            and all(live.query(r.record) for r in (recording.AM_NOTIFICATIONS, recording.AM_NOTIFICATIONS_FAILED))
        )

    wait_for("a few scrapes of every job", enough, START_TIMEOUT_S, live.stack.logs, poll=0.5)


def panel_queries() -> list[tuple[str, Panel, Query]]:
    return [(d.uid, p, q) for d in DASHBOARDS.values() for p, q in d.queries()]


# "All", and the concrete environment of the stack (what a user picks in the variable).
ENVIRONMENTS = [ALL, "live"]


def test_scrapes_reach_the_real_gateway_with_its_key(live: Live) -> None:
    [up] = live.query(f'up{{job="gateway", instance="{live.gateway_instance}"}}')
    assert up["value"][1] == "1"
    assert up["metric"]["service"] == "gateway"
    assert up["metric"]["environment"] == live.stack.settings.environment == "live"
    # The gateway's own request log: /metrics answered 200 (the key reached it as X-API-Key).
    scrapes = [r for r in records(live.gateway.log()) if r.get("url") == "/metrics"]
    assert scrapes and {r["statusCode"] for r in scrapes} == {200}, scrapes[-3:]


def test_template_variable_queries_find_the_scraped_values(live: Live) -> None:
    for variable in gateway.DASHBOARD.variables + stack.DASHBOARD.variables:
        # label_values(SELECTOR, LABEL) is the series API with match[] = SELECTOR.
        inner = variable.query.removeprefix("label_values(").removesuffix(")")
        selector, _, label = inner.rpartition(",")
        selector = substitute(selector.strip(), live.variables())
        response = requests.get(
            f"{live.prometheus}/api/v1/label/{label.strip()}/values", params={"match[]": selector}, timeout=10
        )
        values = response.json()["data"]
        if variable.name == "environment":
            # Stored as a target label: the variable offers the stack's environment.
            assert values == ["live"], values
        else:
            assert values == [live.gateway_instance], f"${variable.name}: {selector} gave {values}"


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_panel_query_returns_data_except_the_listed_panels(live: Live, environment: str) -> None:
    empty: dict[tuple[str, str], list[str]] = {}
    ran = 0
    for uid, panel, query in panel_queries():
        if query.datasource is not PROMETHEUS:
            empty.setdefault((uid, panel.title), []).append(f"{query.datasource.type}: not run here")
            continue
        expr = substitute(query.expr, live.variables(environment))
        ran += 1
        if not live.query(expr):
            empty.setdefault((uid, panel.title), []).append(expr)
    assert ran > 40
    assert set(empty) == set(EXPECTED_WITHOUT_DATA), f"panels without data: {empty}"
    marked = {(d.uid, p.title) for d in DASHBOARDS.values() for p in d.panels() if p.no_data}
    assert marked == set(EXPECTED_WITHOUT_DATA), "the dashboards mark exactly the panels expected to be empty"


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_panels_with_data_have_data_in_every_query(live: Live, environment: str) -> None:
    for uid, panel, query in panel_queries():
        if (uid, panel.title) in EXPECTED_WITHOUT_DATA:
            continue
        assert live.query(substitute(query.expr, live.variables(environment))), f"{panel.title}: {query.expr}"


def test_variables_narrow_the_queries(live: Live) -> None:
    other_environment = {**live.variables(), "environment": "elsewhere"}
    other_instance = {**live.variables(), "instance": "127.0.0.1:1"}
    for _, query in stack.DASHBOARD.queries():
        if query.datasource is PROMETHEUS:
            assert not live.query(substitute(query.expr, other_environment)), query.expr
    for _, query in gateway.DASHBOARD.queries():
        if query.datasource is PROMETHEUS:
            assert not live.query(substitute(query.expr, other_environment)), query.expr
            # Per-stack constants (friday:*) and the environment's recorded aggregates belong to
            # no instance; a share of one does.
            per_instance = "friday:" not in query.expr or "friday_memory_used_mb" in query.expr
            if per_instance and not recording.recorded_in(query.expr):
                assert not live.query(substitute(query.expr, other_instance)), query.expr


def test_memory_panels_show_the_limit_and_the_share(live: Live) -> None:
    variables = live.variables()
    [limit] = live.query(substitute(gateway.LIMIT_MB, variables))
    assert float(limit["value"][1]) == live.stack.settings.gateway_memory_mb
    share_expr = substitute(
        next(q.expr for p, q in gateway.DASHBOARD.queries() if p.title == "Memory of limit"), variables
    )
    # One evaluation time for both: the panel's share and the gateway's RSS and heap scraped together.
    at = time.time()
    [share] = live.stack.query(share_expr, at)
    [rss] = live.stack.query('process_rss_bytes{job="gateway"}', at)
    [heap_mb] = live.stack.query('friday_memory_used_mb{job="gateway"}', at)
    # The process RSS (what the unit's or container's limit counts), not the heap-only friday_memory_used_mb.
    used = float(rss["value"][1]) / 1048576
    assert used != pytest.approx(float(heap_mb["value"][1]))
    assert float(share["value"][1]) == pytest.approx(used / live.stack.settings.gateway_memory_mb)


def test_audit_entries_panel_follows_the_gateway(live: Live) -> None:
    """API keys created through the real API are audited; the panel's rate rises with them."""
    [panel] = [q for p, q in gateway.DASHBOARD.queries() if p.title == "Audit entries"]
    expr = substitute(panel.expr, live.variables())

    def value() -> float:
        [sample] = live.query(expr)
        return float(sample["value"][1])

    before = value()
    for n in range(AUDITED_ACTIONS):
        live.gateway.create_api_key("viewer", name=f"audited-{n}")
    wait_for("the audit entries panel to rise", lambda: value() > before, 15, live.stack.logs, poll=0.3)
