"""The one list of every metric name our exporters have: gateway catalog plus backup tool."""

from __future__ import annotations

import itertools

from infra.backup import metrics as backup_metrics
from infra.metrics import catalog, exporters
from infra.settings import load_stack
from infra.stack import build_stack
from infra.stack.prometheus import scrape_targets


def test_owned_names_are_the_gateway_catalog_and_the_backup_metrics() -> None:
    assert exporters.OWNED_NAMES == catalog.NAMES | backup_metrics.NAMES
    assert backup_metrics.LAST_SUCCESS in exporters.OWNED_NAMES


def test_no_name_belongs_to_two_exporters() -> None:
    for (a, names_a), (b, names_b) in itertools.combinations(exporters.EXPORTERS.items(), 2):
        assert not names_a & names_b, f"{a} and {b} both claim {sorted(names_a & names_b)}"


def test_every_exporter_is_a_scrape_job() -> None:
    jobs = {t.job for t in scrape_targets(build_stack(load_stack("dev")).long_running())}
    assert set(exporters.EXPORTERS) <= jobs


def test_the_extractor_sees_every_owned_name() -> None:
    # A name the PromQL extractor cannot see could never be reported as unknown.
    assert catalog.metric_names_in_promql(" + ".join(sorted(exporters.OWNED_NAMES))) == exporters.OWNED_NAMES


def test_unknown_metrics_reports_typos_only() -> None:
    expr = "friday_backup_kept + friday_tasks_queue_depth + friday_backup_kep + up + prometheus_build_info"
    assert exporters.unknown_metrics(expr) == {"friday_backup_kep"}
