"""Prometheus's configuration: prometheus.yml from the settings and the stack's scrape targets,
the rule files, the command line. The service itself is infra/stack/prometheus.py.

Paths inside prometheus.yml are relative to its directory (Prometheus resolves rule files against
the config file's folder), so the same file checks with
`promtool check config` in a render folder and runs in the container.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from infra.alerting import committed, stack_constants
from infra.monitoring import endpoints, remote_write, web_auth
from infra.monitoring.scrape import ScrapeTarget
from infra.settings import Settings
from infra.yamlio import dump_readable

CONFIG_FILE = "prometheus.yml"
RULES_DIR = "rules"
CONSTANTS_FILE = "stack-constants.yml"
# Alertmanager's password, a secret file of Prometheus (posting alerts, scraping Alertmanager).
ALERTMANAGER_PASSWORD_FILE = f"{endpoints.PROMETHEUS_CONFIG_DIR}/{web_auth.PASSWORD_FILE_NAME}"


def rule_file_names(settings: Settings) -> list[str]:
    """Rule files relative to the config folder: the static alerts this stack loads, then the stack constants."""
    static = [
        f"{RULES_DIR}/{path.rsplit('/', 1)[-1]}"
        for path in committed.committed_rule_paths()
        if committed.loads(settings, path)
    ]
    return [*static, f"{RULES_DIR}/{CONSTANTS_FILE}"]


def scrape_config(target: ScrapeTarget, environment: str) -> dict[str, Any]:
    config: dict[str, Any] = {
        "job_name": target.job,
        "scheme": target.scheme,
        "metrics_path": target.metrics_path,
    }
    if target.interval is not None:
        config["scrape_interval"] = target.interval
    if target.timeout is not None:
        config["scrape_timeout"] = target.timeout
    if target.params:
        config["params"] = target.params
    if target.basic_auth is not None:
        config["basic_auth"] = dict(target.basic_auth)
    static = target.address if target.probe_target is None else target.probe_target
    # `environment` as a target label is stored with every series (an external label is not), so
    # the dashboards' environment variable finds data when a concrete environment is selected.
    labels = {"service": target.job, "environment": environment, **target.labels}
    config["static_configs"] = [{"targets": [static], "labels": labels}]
    if target.probe_target is not None:
        # The multi-target pattern: the probe target becomes ?target= and the instance label;
        # Prometheus connects to the exporter.
        config["relabel_configs"] = [
            {"source_labels": ["__address__"], "target_label": "__param_target"},
            {"source_labels": ["__param_target"], "target_label": "instance"},
            {"target_label": "__address__", "replacement": target.address},
        ]
    return config


def prometheus_config(settings: Settings, targets: Sequence[ScrapeTarget]) -> dict[str, Any]:
    config = {
        "global": {
            "scrape_interval": settings.scrape_interval,
            "evaluation_interval": settings.evaluation_interval,
            # Added to every series and alert leaving Prometheus (Alertmanager, remote storage);
            # Prometheus does not store them, hence the `environment` target label as well.
            "external_labels": {"stack": settings.stack, "environment": settings.environment},
        },
        "alerting": {
            "alertmanagers": [
                {
                    "api_version": "v2",
                    # Alertmanager wants its web credential (infra/monitoring/web_auth.py).
                    "basic_auth": web_auth.basic_auth(ALERTMANAGER_PASSWORD_FILE),
                    "static_configs": [{"targets": [f"{endpoints.ALERTMANAGER}:{endpoints.ALERTMANAGER_PORT}"]}],
                }
            ]
        },
        "rule_files": rule_file_names(settings),
        "scrape_configs": [scrape_config(t, settings.environment) for t in targets],
    }
    if settings.remote_write:
        config["remote_write"] = remote_write.remote_write(settings)
    return config


def command(settings: Settings) -> tuple[str, ...]:
    # Retention is a command-line flag, not part of prometheus.yml (in 2.x and 3.x alike).
    return (
        f"--config.file={endpoints.PROMETHEUS_CONFIG_DIR}/{CONFIG_FILE}",
        f"--storage.tsdb.path={endpoints.PROMETHEUS_DATA_DIR}",
        f"--storage.tsdb.retention.time={settings.prometheus_retention_time}",
        f"--storage.tsdb.retention.size={settings.prometheus_retention_size}",
        f"--web.listen-address=:{endpoints.PROMETHEUS_PORT}",
    )


def config_files(settings: Settings, targets: Sequence[ScrapeTarget]) -> dict[str, str]:
    """{path relative to the config folder: content}: prometheus.yml and every rule file."""
    header = (
        f"# Prometheus configuration of stack {settings.stack!r}, generated from its settings\n"
        "# (infra/monitoring/prometheus_config.py; scrape targets: the metrics each service declares).\n"
    )
    files = {CONFIG_FILE: header + dump_readable(prometheus_config(settings, targets))}
    for path, text in committed.stack_rule_files(settings).items():
        files[f"{RULES_DIR}/{path.rsplit('/', 1)[-1]}"] = text
    files[f"{RULES_DIR}/{CONSTANTS_FILE}"] = stack_constants.stack_constants(settings)
    return files
