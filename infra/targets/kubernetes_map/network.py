"""NetworkPolicies: nothing in the namespace talks to anything unless a policy here allows it.

- every pod: no traffic in or out (default deny);
- the gateway: in from the ingress controller's namespace (port http) and from Prometheus
  (port metrics, the metrics-auth sidecar); out only to DNS and to HTTPS outside the cluster's
  private ranges (the AI providers).
Kubelet probes are not pod traffic and pass on the usual CNIs.
"""

from __future__ import annotations

from infra.settings import Settings
from infra.targets.kubernetes_map import metrics_auth, workload
from infra.targets.kubernetes_map.meta import NAMESPACE_NAME_LABEL, Manifest, metadata, name, selector

PROMETHEUS_POD_LABELS = {"app.kubernetes.io/name": "prometheus"}
PRIVATE_V4 = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10"]
PRIVATE_V6 = ["fc00::/7", "fe80::/10"]


def _namespace(ns: str) -> dict[str, dict[str, dict[str, str]]]:
    return {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: ns}}}


def default_deny(settings: Settings) -> Manifest:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(settings, name(settings, "default-deny"), "network"),
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }


def gateway(settings: Settings) -> Manifest:
    dns = [{"protocol": proto, "port": 53} for proto in ("UDP", "TCP")]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(settings, name(settings, "gateway"), workload.COMPONENT),
        "spec": {
            "podSelector": {"matchLabels": selector(settings, workload.COMPONENT)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [
                {
                    "from": [_namespace(settings.kubernetes_ingress_namespace)],
                    "ports": [{"protocol": "TCP", "port": workload.HTTP_PORT_NAME}],
                },
                {
                    "from": [
                        {
                            **_namespace(settings.kubernetes_monitoring_namespace),
                            "podSelector": {"matchLabels": PROMETHEUS_POD_LABELS},
                        }
                    ],
                    "ports": [{"protocol": "TCP", "port": metrics_auth.PORT_NAME}],
                },
            ],
            "egress": [
                {"ports": dns},
                {
                    "to": [
                        {"ipBlock": {"cidr": "0.0.0.0/0", "except": PRIVATE_V4}},
                        {"ipBlock": {"cidr": "::/0", "except": PRIVATE_V6}},
                    ],
                    "ports": [{"protocol": "TCP", "port": 443}],
                },
            ],
        },
    }


def objects(settings: Settings) -> list[Manifest]:
    return [default_deny(settings), gateway(settings)]
