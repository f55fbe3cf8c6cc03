"""Install mode: Alloy may read the pods and logs of the stack's namespace and nothing else."""

from __future__ import annotations

import re
from typing import Any

from infra.targets.kubernetes_map import install
from tests.support.kubernetes import variant_settings


def chart_rbac_objects(values: dict[str, Any], release_namespace: str) -> list[tuple[str, str, list[Any]]]:
    """(kind, namespace, rules) of the RBAC objects the Alloy chart creates from its `rbac` values:
    its rbac.yaml makes a Role per listed namespace with `rules`, else one ClusterRole with `rules`
    and `clusterRules` (bindings follow the roles)."""
    rbac = values["rbac"]
    if not rbac.get("create"):
        return []
    if rbac.get("namespaces"):
        return [("Role", ns, rbac.get("rules", [])) for ns in rbac["namespaces"]]
    # The chart's defaults when rules are not given include secrets and configmaps cluster-wide.
    rules = rbac.get("rules", [{"resources": ["secrets"]}]) + rbac.get("clusterRules", [])
    return [("ClusterRole", "", rules)]


def test_alloy_gets_a_role_in_the_stacks_namespace_only_and_never_secrets() -> None:
    settings = variant_settings("install")
    [chart] = [c for c in install.charts(settings) if c.release == install.ALLOY]
    objects = chart_rbac_objects(chart.values, chart.namespace)
    assert [(kind, ns) for kind, ns, _ in objects] == [("Role", settings.kubernetes_namespace)]
    [(_, _, rules)] = objects
    granted = {
        (group, resource, verb)
        for r in rules
        for group in r["apiGroups"]
        for resource in r["resources"]
        for verb in r["verbs"]
    }
    assert granted == {("", res, verb) for res in ("pods", "pods/log") for verb in ("get", "list", "watch")}


def test_alloys_discovery_is_limited_to_the_stacks_namespace() -> None:
    """The Role only covers the stack's namespace: discovery must not ask for pods elsewhere."""
    settings = variant_settings("install")
    config = install.alloy_config(settings)
    [discovery] = re.findall(r'discovery\.kubernetes "pods" \{(.*?)\n\}', config, re.S)
    assert re.search(r"role\s*=\s*\"pod\"", discovery)
    [names] = re.findall(r"namespaces \{\s*names\s*=\s*\[(.*?)\]", discovery, re.S)
    assert [n.strip().strip('"') for n in names.split(",") if n.strip()] == [settings.kubernetes_namespace]
