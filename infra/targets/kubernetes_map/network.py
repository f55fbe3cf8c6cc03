"""NetworkPolicies: nothing in the namespace talks to anything unless a policy here allows it.

- every pod: no traffic in or out (default deny);
- the gateway: in from the ingress controller's namespace (port http), from Prometheus
  (port metrics, the metrics-auth sidecar) and from the blackbox exporter (port http, its
  probes); out only to DNS and to HTTPS outside the cluster's private ranges (the AI providers);
- the blackbox exporter: in from Prometheus (port http, /probe and its own /metrics); out only
  to DNS and to the gateway's port http.
Kubelet probes are not pod traffic and pass on the usual CNIs.
"""

from __future__ import annotations

from infra.settings import Settings
from infra.targets.kubernetes_map import acme_solver, gateway_objects, ingress_sources, metrics_auth_sidecar, probes
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
        "metadata": metadata(settings, name(settings, "gateway"), gateway_objects.COMPONENT),
        "spec": {
            "podSelector": {"matchLabels": selector(settings, gateway_objects.COMPONENT)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [
                {
                    "from": ingress_sources.peers(settings),
                    "ports": [{"protocol": "TCP", "port": gateway_objects.HTTP_PORT_NAME}],
                },
                {
                    "from": [
                        {
                            **_namespace(settings.kubernetes_monitoring_namespace),
                            "podSelector": {"matchLabels": PROMETHEUS_POD_LABELS},
                        }
                    ],
                    "ports": [{"protocol": "TCP", "port": metrics_auth_sidecar.PORT_NAME}],
                },
                {
                    "from": [{"podSelector": {"matchLabels": selector(settings, probes.COMPONENT)}}],
                    "ports": [{"protocol": "TCP", "port": gateway_objects.HTTP_PORT_NAME}],
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


def _prometheus(settings: Settings) -> dict[str, object]:
    return {
        **_namespace(settings.kubernetes_monitoring_namespace),
        "podSelector": {"matchLabels": PROMETHEUS_POD_LABELS},
    }


def blackbox(settings: Settings) -> Manifest:
    dns = [{"protocol": proto, "port": 53} for proto in ("UDP", "TCP")]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(settings, name(settings, probes.COMPONENT), probes.COMPONENT),
        "spec": {
            "podSelector": {"matchLabels": selector(settings, probes.COMPONENT)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [
                {"from": [_prometheus(settings)], "ports": [{"protocol": "TCP", "port": probes.HTTP_PORT_NAME}]},
            ],
            "egress": [
                {"ports": dns},
                {
                    "to": [{"podSelector": {"matchLabels": selector(settings, gateway_objects.COMPONENT)}}],
                    "ports": [{"protocol": "TCP", "port": gateway_objects.HTTP_PORT_NAME}],
                },
            ],
        },
    }


def objects(settings: Settings) -> list[Manifest]:
    return [default_deny(settings), gateway(settings), blackbox(settings), *acme_solver.objects(settings)]
