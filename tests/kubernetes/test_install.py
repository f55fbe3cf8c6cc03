"""install mode: pinned charts whose values select exactly what the stack creates."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from infra import crds
from infra.dashboards import datasources
from infra.dashboards import files as dashboard_files
from infra.settings.groups import label_pairs
from infra.stack import build_stack
from infra.targets.kubernetes_map import install, manifests
from tests.support.kubernetes import variant_settings


def test_charts_only_in_install_mode_and_pinned_from_settings() -> None:
    assert install.charts(variant_settings("minimal")) == []
    s = variant_settings("install")
    charts = {c.release: c for c in install.charts(s)}
    assert set(charts) == {"kube-prometheus-stack", "loki", "alloy"}
    assert charts["kube-prometheus-stack"].version == s.kube_prometheus_stack_chart_version
    assert charts["loki"].version == s.loki_chart_version
    assert charts["alloy"].version == s.alloy_chart_version
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", c.version) for c in charts.values())
    assert all(c.namespace == s.kubernetes_monitoring_namespace for c in charts.values())
    assert all(c.repository.startswith("https://") for c in charts.values())
    files = install.crd_files(s)
    assert set(files) == set(crds.CHECKSUMS[s.prometheus_operator_version]) >= set(crds.STACK_FILES)
    for file, pin in files.items():
        assert pin["url"].startswith("https://") and f"/v{s.prometheus_operator_version}/" in pin["url"]
        assert pin["url"].endswith(f"/{file}") and re.fullmatch(r"[0-9a-f]{64}", pin["sha256"])


def test_kube_prometheus_stack_selects_the_stacks_custom_resources() -> None:
    s = variant_settings("install")
    values = install.kube_prometheus_stack(s).values
    # The program applies the CRDs, so the chart must not.
    assert values["crds"] == {"enabled": False}
    wanted = {"matchLabels": label_pairs(s.kubernetes_prometheus_selector)}
    prom, am = values["prometheus"]["prometheusSpec"], values["alertmanager"]["alertmanagerSpec"]
    assert prom["serviceMonitorSelector"] == prom["ruleSelector"] == am["alertmanagerConfigSelector"] == wanted
    assert prom["probeSelector"] == wanted and prom["probeNamespaceSelector"] == {}
    objects = manifests.objects(s, build_stack(s))
    for obj in (o for o in objects if manifests.is_custom(o)):
        assert wanted["matchLabels"].items() <= obj["metadata"]["labels"].items(), obj["kind"]
    assert am["alertmanagerConfigMatcherStrategy"] == {"type": "OnNamespace"}


def _datasource_uids(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["datasource"]["uid"]} if isinstance(node.get("datasource"), dict) else set()
        return found | {u for v in node.values() for u in _datasource_uids(v)}
    if isinstance(node, list):
        return {u for v in node for u in _datasource_uids(v)}
    return set()


def test_grafana_gets_a_datasource_of_each_type_the_dashboards_choose_and_its_admin_secret() -> None:
    s = variant_settings("install")
    grafana = install.kube_prometheus_stack(s).values["grafana"]
    used = {u for text in dashboard_files.provisioned().values() for u in _datasource_uids(json.loads(text))}
    used.discard("-- Grafana --")  # Grafana's built-in annotation source
    # Only datasource variables, each resolving to the chart's datasource of its type.
    assert used == {f"${{{d.variable}}}" for d in datasources.QUERIED}
    provided = {grafana["sidecar"]["datasources"]["uid"], grafana["sidecar"]["datasources"]["alertmanager"]["uid"]}
    provided |= {d["uid"] for d in grafana["additionalDataSources"]}
    assert provided == {d.uid for d in datasources.DATASOURCES}
    [loki] = grafana["additionalDataSources"]
    assert install.loki_push_url(s).startswith(loki["url"] + "/")
    objects = manifests.objects(s, build_stack(s))
    [secret] = [o for o in objects if o["metadata"]["name"] == grafana["admin"]["existingSecret"]]
    assert {grafana["admin"]["userKey"], grafana["admin"]["passwordKey"]} == set(secret["stringData"])
    assert manifests.secret_keys(secret) == {"admin-password": "grafanaAdminPassword"}


def test_loki_is_monolithic_with_the_stacks_retention() -> None:
    s = variant_settings("install")
    values = install.loki_chart(s).values
    assert values["deploymentMode"] == "Monolithic"
    assert values["singleBinary"]["replicas"] == 1
    assert values["loki"]["limits_config"]["retention_period"] == "720h"
    assert values["loki"]["compactor"]["retention_enabled"] is True


def _non_root_contexts(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every securityContext-like mapping in chart values that asks for runAsNonRoot."""
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        if node.get("runAsNonRoot") is True:
            found.append((path, node))
        for key, value in node.items():
            found += _non_root_contexts(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _non_root_contexts(value, f"{path}[{i}]")
    return found


def test_every_chart_that_asks_for_non_root_names_the_user() -> None:
    """runAsNonRoot without a numeric user only works for images whose USER is numeric and not root;
    the Alloy image runs as root unless told (its user exists, uid 473): the kubelet refused it and the
    release rolled back after 900 s. Each such context in the values names its user."""
    settings = variant_settings("install")
    contexts = [(c.release + path, ctx) for c in install.charts(settings) for path, ctx in _non_root_contexts(c.values)]
    assert any(name.startswith("alloy") for name, _ in contexts)
    for name, ctx in contexts:
        assert isinstance(ctx.get("runAsUser"), int) and ctx["runAsUser"] > 0, name
    [alloy_ctx] = [ctx for name, ctx in contexts if name.startswith("alloy")]
    assert (alloy_ctx["runAsUser"], alloy_ctx["runAsGroup"]) == (473, 473)


GO_ACTION = re.compile(r"\{\{(.*?)\}\}", re.S)
GO_STRING = re.compile(r'^-?\s*"((?:[^"\\]|\\.)*)"\s*-?$')


def helm_tpl(text: str) -> str:
    """What Helm's `tpl` makes of a value, for the one kind of action a literal may hold: a quoted
    string printed as it is. Any other action would be evaluated against the chart: refused here."""

    def action(match: re.Match[str]) -> str:
        literal = GO_STRING.match(match.group(1).strip())
        if literal is None:
            raise AssertionError(f"tpl would evaluate {match.group(0)!r}")
        return literal.group(1)

    return GO_ACTION.sub(action, text)


def test_alloys_config_survives_helms_tpl_unchanged() -> None:
    """The chart renders alloy.configMap.content with `tpl`: the pipeline's own level template must
    come out as written, or every line is labelled level="unparsed"."""
    settings = variant_settings("install")
    config = install.alloy_config(settings)
    assert "{{" in config  # the level template is there to protect
    [chart] = [c for c in install.charts(settings) if c.release == "alloy"]
    content = chart.values["alloy"]["configMap"]["content"]
    assert helm_tpl(content) == config
    with pytest.raises(AssertionError, match="tpl would evaluate"):
        helm_tpl(config)  # shipped as is, Helm would run it


def test_loki_and_alloy_are_scraped_for_the_stack_dashboard() -> None:
    """The stack dashboard's Loki and Alloy panels read their own series: their charts' ServiceMonitors
    are on and carry the labels kube-prometheus-stack selects ServiceMonitors by."""
    s = variant_settings("install")
    wanted = label_pairs(s.kubernetes_prometheus_selector)
    assert install.loki_chart(s).values["monitoring"]["serviceMonitor"] == {"enabled": True, "labels": wanted}
    assert install.alloy_chart(s).values["serviceMonitor"] == {"enabled": True, "additionalLabels": wanted}
    prom = install.kube_prometheus_stack(s).values["prometheus"]["prometheusSpec"]
    assert prom["serviceMonitorSelector"] == {"matchLabels": wanted} and prom["serviceMonitorNamespaceSelector"] == {}
