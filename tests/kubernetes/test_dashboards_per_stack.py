"""Several stacks of one environment in one cluster: each stack's dashboards select its own series.

Every Prometheus selector of every panel of a stack's dashboard copy (the ConfigMaps Grafana's
sidecar loads) is read with the copy's own template variables, "All" environments and instances:
its `namespace` matcher must admit the stack's namespace and not the other stack's, so the two
stacks' panels select disjoint series; only the monitoring components' own series (the cluster's
Prometheus and Alertmanager, shared by both) are selected in the monitoring namespace. The
committed dashboards (Docker, bare metal) admit every series, those without a namespace too.
"""

from __future__ import annotations

import json
import re
from typing import Any

from infra.dashboards import committed, scope
from infra.dashboards.model import substitute
from infra.settings import Settings
from infra.targets.kubernetes_map import monitoring
from infra.targets.kubernetes_map.rules import scope as add_namespace
from testbed.settings import settings_of
from tests.support.kubernetes import KUBE_BASE

MARK = "selector-mark"
# The selectors of one expression, as kubernetes_map/rules.py finds them (it marks each one).
_MARKED = re.compile(r'([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^{}]*?),?namespace="' + MARK + r'"\}')
_MATCHER = re.compile(r'(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"')
MONITORING_SERIES = re.compile(r"^(?:prometheus|alertmanager)_")
ALL = ".*"


def _stack(namespace: str) -> Settings:
    return settings_of({**KUBE_BASE, "kubernetesNamespace": namespace}, frozenset({"anthropicApiKey"}))


def _copies(settings: Settings) -> dict[str, dict[str, Any]]:
    """{file name: dashboard JSON} of the stack's dashboard ConfigMaps."""
    out = {}
    for config_map in monitoring.dashboard_config_maps(settings):
        [(key, text)] = config_map["data"].items()
        out[key.removeprefix(f"{settings.kubernetes_namespace}-")] = json.loads(text)
    return out


def _prometheus_exprs(doc: dict[str, Any]) -> list[str]:
    variables = {"environment": ALL, "instance": ALL, "__rate_interval": "1m", **scope.values(doc)}
    return [
        substitute(target["expr"], variables)
        for panel in doc["panels"]
        for target in panel.get("targets", [])
        if target["datasource"]["type"] == "prometheus"
    ]


def _namespace_regexes(expr: str) -> list[tuple[str, str]]:
    """(metric, the regex its namespace matcher gives) for every vector selector of expr."""
    marked = add_namespace(expr, MARK)
    found = _MARKED.findall(marked)
    assert len(found) == marked.count(MARK) > 0, f"a selector not read: {expr}"
    out = []
    for metric, matchers in found:
        regexes = [value for label, op, value in _MATCHER.findall(matchers) if label == "namespace" and op == "=~"]
        assert len(regexes) == 1, f"{metric} in {expr!r} selects no single namespace"
        out.append((metric, regexes[0]))
    return out


def _selected(regex: str, namespace: str) -> bool:
    """Does a Prometheus `=~` matcher admit a series with this namespace (anchored like Prometheus)?"""
    return re.fullmatch(regex, namespace) is not None


def test_two_stacks_in_one_cluster_select_disjoint_series() -> None:
    a, b = _stack("friday-a"), _stack("friday-b")
    assert a.environment == b.environment and a.kubernetes_monitoring_namespace == b.kubernetes_monitoring_namespace
    copies = {s.kubernetes_namespace: _copies(s) for s in (a, b)}
    assert set(copies["friday-a"]) == set(copies["friday-b"]) == set(committed.files())
    for own, other in (("friday-a", "friday-b"), ("friday-b", "friday-a")):
        shared = 0
        for file_name, doc in copies[own].items():
            exprs = _prometheus_exprs(doc)
            assert exprs, file_name
            for expr in exprs:
                for metric, regex in _namespace_regexes(expr):
                    if MONITORING_SERIES.match(metric):
                        # The cluster's Prometheus and Alertmanager: in the monitoring namespace only.
                        assert _selected(regex, a.kubernetes_monitoring_namespace), (file_name, expr)
                        assert not _selected(regex, own), (file_name, expr)
                        shared += 1
                        continue
                    assert _selected(regex, own), (file_name, expr)
                    assert not _selected(regex, other), f"{file_name}: {expr} also selects {other}'s series"
                    assert not _selected(regex, a.kubernetes_monitoring_namespace), (file_name, expr)
            # The template variables' own queries list the stack's values only.
            for variable in doc["templating"]["list"]:
                if variable["type"] == "query":
                    assert scope.STACK_MATCHER in variable["query"], (file_name, variable["name"])
        # Two config reloads, the Alertmanagers Prometheus found, and the remote-write panel's four selectors.
        assert shared == 7


def test_committed_dashboards_select_every_series_with_or_without_a_namespace() -> None:
    for file_name, text in committed.files().items():
        doc = json.loads(text)
        assert scope.values(doc) == scope.EVERY_STACK, file_name
        for expr in _prometheus_exprs(doc):
            for _, regex in _namespace_regexes(expr):
                # Docker and bare metal series have no namespace label: Prometheus matches "" then.
                assert _selected(regex, "") and _selected(regex, "friday-a"), (file_name, expr)
