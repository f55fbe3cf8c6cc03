"""Alloy's permissions in install mode: read the pods and logs of the stack's namespace, nothing else.

The Alloy chart (grafana/alloy, `rbac.*` values) creates a ClusterRole and ClusterRoleBinding with its
default rules unless `rbac.namespaces` lists namespaces; then it creates one Role and RoleBinding in
each listed namespace with `rbac.rules` and ignores `rbac.clusterRules`. Its default rules include
reading every Secret and ConfigMap of the cluster (for its remote.kubernetes components), which this
stack never uses.

What the pipeline (infra.logs.pipeline.kubernetes_config) needs: `discovery.kubernetes` with role pod,
limited to the stack's namespace (its `namespaces { names = [...] }` block), lists and watches pods
there; `loki.source.kubernetes` gets each pod and reads its log (pods/log) through the API server.
"""

from __future__ import annotations

from typing import Any

from infra.settings import Settings

RULES: list[dict[str, Any]] = [
    {"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list", "watch"]},
]


def values(settings: Settings) -> dict[str, Any]:
    """The chart's `rbac` values: a Role and RoleBinding in the stack's namespace only."""
    return {
        "create": True,
        "namespaces": [settings.kubernetes_namespace],
        "rules": RULES,
        "clusterRules": [],
    }
