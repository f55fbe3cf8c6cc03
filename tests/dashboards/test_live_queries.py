"""Every dashboard query against a real Prometheus scraping the gateway double and the backup service.

The stack's RENDERED monitoring runs on 127.0.0.1 (tests/support/live_stack.py: Debian's
Prometheus and Alertmanager with the rendered configs, localized; the backup service's own
`serve` command; 1 s scrape and rule interval), Prometheus scraping the gateway double with an
admin key (as gateway 0.1.0 demands, through the rendered metrics-auth proxy), itself,
Alertmanager and the backup service. So the series have the stack's own labels (job = service
name plus `service` and `environment` target labels: `environment` is stored with every series,
not only an external label) and the per-stack constants come from the rendered
rules/stack-constants.yml. Then each panel's PromQL, template variables substituted, runs through
the HTTP API, once with "All" environments and once with the stack's own environment selected.
Panels that cannot have data here (seed metrics gateway 0.1.0 lacks; Loki and Alloy, which do not
run here) are listed below, and they must be the only ones without data.
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
from infra.dashboards import gateway, slo, stack
from infra.dashboards.datasources import PROMETHEUS
from infra.dashboards.files import DASHBOARDS
from infra.dashboards.model import Panel, Query, substitute
from tests.support.gateway_double import GatewayDouble
from tests.support.live_stack import LiveStack, live_stack
from tests.support.processes import wait_for

pytestmark = pytest.mark.live

TOKEN = "live-test-admin-key-0123456789"
ALL = ".*"
START_TIMEOUT_S = 30.0
SCRAPES_WANTED = 3

# (dashboard uid, panel title) of every panel expected to stay empty here, and why.
EXPECTED_WITHOUT_DATA = {
    (gateway.UID, "Average task duration"): "friday_tasks_avg_duration_ms not exposed by 0.1.0",
    (gateway.UID, "Cost this month"): "friday_cost_usd_month not exposed by 0.1.0",
    (gateway.UID, "Successful logins and active sessions"): "seed metrics not exposed by 0.1.0",
    (gateway.UID, "Injection attempts"): "friday_injection_attempts_total not exposed by 0.1.0",
    (gateway.UID, "Gateway warnings and errors"): "Loki does not run here",
    (stack.UID, "Loki lines received"): "Loki does not run here",
    (stack.UID, "Loki requests by status"): "Loki does not run here",
    (stack.UID, "Alloy components"): "Alloy does not run here",
    (stack.UID, "Alloy log entries to Loki"): "Alloy does not run here",
    (slo.UID, "Probe results"): "no blackbox exporter here (tests/probes/ runs it)",
    (slo.UID, "Probe duration"): "no blackbox exporter here",
    (slo.UID, "Certificate days left"): "no blackbox exporter here",
}


@dataclass
class Live:
    stack: LiveStack
    gateway_instance: str
    double: GatewayDouble

    @property
    def prometheus(self) -> str:
        return self.stack.prometheus

    def query(self, expr: str) -> list[dict[str, Any]]:
        return self.stack.query(expr)

    def variables(self, environment: str = ALL) -> dict[str, str]:
        # environment: the "All" value (allValue), or a concrete environment.
        return {"environment": environment, "instance": self.gateway_instance, "__rate_interval": "1m"}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp: Path = tmp_path_factory.mktemp("live-dashboards")
    with GatewayDouble(token=TOKEN) as double:
        # A gateway that has run tasks: friday_tasks_by_status only has samples after the first one.
        double.values.update(
            {
                "friday_tasks_total": 5,
                "friday_tasks_by_status": {"completed": 4, "failed": 1},
                "friday_tasks_success_rate": 0.8,
                "friday_tasks_queue_depth": 3,
            }
        )
        with live_stack(tmp, double, TOKEN) as running:
            # The gateway job's instance names the gateway, whichever address Prometheus scrapes.
            live = Live(running, f"gateway:{running.settings.gateway_port}", double)
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


def test_scrapes_reach_the_gateway_double_with_its_token(live: Live) -> None:
    [up] = live.query(f'up{{job="gateway", instance="{live.gateway_instance}"}}')
    assert up["value"][1] == "1"
    assert up["metric"]["service"] == "gateway"
    assert up["metric"]["environment"] == live.stack.settings.environment == "live"
    assert ("GET", "/metrics", 200) in live.double.requests


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
    [share] = live.query(
        substitute(next(q.expr for p, q in gateway.DASHBOARD.queries() if p.title == "Memory of limit"), variables)
    )
    # The process RSS (what the container limit counts), not the heap-only friday_memory_used_mb.
    used = live.double.values.value("process_rss_bytes") / 1048576
    assert used != pytest.approx(live.double.values.value("friday_memory_used_mb"))
    assert float(share["value"][1]) == pytest.approx(used / live.stack.settings.gateway_memory_mb)


def test_queue_depth_panel_follows_the_gateway(live: Live) -> None:
    live.double.values.update({"friday_tasks_queue_depth": 77})
    expr = substitute(f"friday_tasks_queue_depth{{{gateway.SEL}}}", live.variables())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        [sample] = live.query(expr)
        if sample["value"][1] == "77":
            return
        time.sleep(0.3)
    raise AssertionError("the queue depth panel did not follow the gateway within 10 s")
