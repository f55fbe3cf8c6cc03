"""Every metric name of every exporter this project owns, in one place.

The gateway's metrics are catalogued with their provenance in `infra.metrics.catalog`; the
backup tool's in `infra.backup.metrics` (a stdlib-only package that also runs on its own in a
container, so it cannot import the catalog). Alert and dashboard checks ask this module
whether a `friday_*`/`process_*` name in their PromQL is one an exporter of ours really has.
Metrics of third-party software (Prometheus, Alertmanager, Loki...) are not listed here.
"""

from __future__ import annotations

from infra.backup import metrics as backup_metrics
from infra.metrics import catalog, jobs

# Exporter (the scrape job that serves it) -> the metric names it exposes or is specified to.
EXPORTERS: dict[str, frozenset[str]] = {
    jobs.GATEWAY: catalog.NAMES,
    jobs.BACKUP: backup_metrics.NAMES,
}

OWNED_NAMES: frozenset[str] = frozenset().union(*EXPORTERS.values())


def unknown_metrics(expr: str) -> set[str]:
    """Names in a PromQL expression that look like ours (see catalog.metric_names_in_promql) but no exporter has."""
    return catalog.metric_names_in_promql(expr) - OWNED_NAMES
