"""The one transformation the live test applies to rendered configs, so they run on 127.0.0.1.

Everything else in the rendered files is used as rendered. What changes, and why:

prometheus.yml
  - each scrape target `service:port` becomes `127.0.0.1:<free port>` (no Docker network here);
    jobs of services that cannot run here (Grafana: no binary on this machine) are dropped;
  - the Alertmanager target likewise;
  - global scrape_interval and evaluation_interval become INTERVAL (seconds instead of 15s,
    so the test takes seconds).
rules/gateway.yml (copy)
  - the `for` of the one alert the test drives is shortened (see FOR_OVERRIDE); the rule's
    expression, labels and annotations stay as committed.
alertmanager.yml
  - `<secret:KEY>` placeholders are filled with the test receiver's URLs (what the Docker
    target does with the real secrets at deploy time);
  - group_wait / group_interval (root and Watchdog route) become INTERVAL, repeat_interval stays.
secrets/gateway-credential
  - written with the gateway double's token (what the Docker target uploads from metricsToken).
prometheus command line (the rendered one, see services/prometheus.json)
  - --config.file, --storage.tsdb.path and --web.listen-address point into the test's folder;
  - RESEND_FLAG is added: Prometheus evaluates its first rules before its notifier has
    discovered Alertmanager, drops those sends, and re-sends firing alerts only every minute
    by default; this makes the Watchdog arrive seconds, not a minute, after start. It does
    not change when a newly firing or resolved alert is sent (immediately, in both cases).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from infra.alerting.rules import dump
from infra.stack.spec import fill_secrets

INTERVAL = "1s"
FOR_OVERRIDE = "5s"
RESEND_FLAG = f"--rules.alert.resend-delay={INTERVAL}"


def prometheus_config(config: dict[str, Any], addresses: dict[str, str]) -> dict[str, Any]:
    """Targets mapped through `addresses` (service:port -> host:port), intervals shortened."""
    config["global"]["scrape_interval"] = INTERVAL
    config["global"]["evaluation_interval"] = INTERVAL
    runs_here = []
    for job in config["scrape_configs"]:
        targets = [t for static in job["static_configs"] for t in static["targets"]]
        if not all(t in addresses for t in targets):
            continue
        for static in job["static_configs"]:
            static["targets"] = [addresses[t] for t in static["targets"]]
        runs_here.append(job)
    config["scrape_configs"] = runs_here
    for am in config["alerting"]["alertmanagers"]:
        for static in am["static_configs"]:
            static["targets"] = [addresses[t] for t in static["targets"]]
    return config


def shorten_for(rule_file: Path, alert: str, for_: str = FOR_OVERRIDE) -> str:
    """Rewrite rule_file in place with a shorter `for` on one alert; returns the original `for`."""
    doc = yaml.safe_load(rule_file.read_text())
    original = None
    for group in doc["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") == alert:
                original = rule["for"]
                rule["for"] = for_
    if original is None:
        raise KeyError(f"{rule_file} has no alert {alert}")
    rule_file.write_text(dump(doc))
    return str(original)


def alertmanager_config(text: str, secret_values: dict[str, str]) -> str:
    doc = yaml.safe_load(fill_secrets(text, secret_values))
    route = doc["route"]
    route["group_wait"] = INTERVAL
    route["group_interval"] = INTERVAL
    for child in route["routes"]:
        if "group_interval" in child:
            child["group_interval"] = INTERVAL
            child["repeat_interval"] = INTERVAL
    return dump(doc)
