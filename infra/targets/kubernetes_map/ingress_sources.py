"""Who may reach the gateway's `http` port (and the ACME HTTP-01 solver) from outside the namespace.

The ingress or Gateway controller's pods, selected by their namespace (kubernetesIngressNamespace);
and, for a controller on the host network (its pods use the node's address, which no namespace or
pod selector matches), the node networks of kubernetesIngressSourceCidrs as ipBlocks.
"""

from __future__ import annotations

from typing import Any

from infra.settings import Settings
from infra.settings.cidrs import cidr_items
from infra.targets.kubernetes_map.meta import NAMESPACE_NAME_LABEL


def peers(settings: Settings) -> list[dict[str, Any]]:
    return [
        {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: settings.kubernetes_ingress_namespace}}},
        *({"ipBlock": {"cidr": cidr}} for cidr in cidr_items(settings.kubernetes_ingress_source_cidrs)),
    ]
