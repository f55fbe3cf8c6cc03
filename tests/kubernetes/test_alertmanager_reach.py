"""Kubernetes (issue 23 item 5): Alertmanager and Prometheus are kube-prometheus-stack's, in the
monitoring namespace, without the web credential the Docker and bare-metal targets add. What holds
on this side: no pod of the stack's namespace can reach them. A default-deny policy selects every
pod (ingress and egress), and the only egress allowed is DNS, the gateway's port (the exporter) and
TCP 443 to public addresses, every private range excepted (pod and Service addresses are private).
Pods of other namespaces are the cluster's and the chart's concern (docs/monitoring.md)."""

from __future__ import annotations

import ipaddress
from typing import Any

from infra.settings import Settings
from tests.support.kubernetes import Manifest

CLUSTER_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
MONITORING_PORTS = {9093, 9090, "http-web", "web"}


def _policies(objects: list[Manifest]) -> list[Manifest]:
    return [o for o in objects if o["kind"] == "NetworkPolicy"]


def _reaches_cluster(name: str, block: dict[str, Any]) -> list[str]:
    """Cluster ranges an ipBlock admits (not excepted)."""
    allowed = ipaddress.ip_network(block["cidr"])
    excepted = [ipaddress.ip_network(c) for c in block.get("except", [])]
    found = []
    for cluster in (ipaddress.IPv4Network(c) for c in CLUSTER_RANGES):
        if not isinstance(allowed, ipaddress.IPv4Network) or not allowed.supernet_of(cluster):
            continue
        if not any(isinstance(e, ipaddress.IPv4Network) and e.supernet_of(cluster) for e in excepted):
            found.append(f"{name}: {allowed} reaches the cluster range {cluster}")
    return found


def _egress_problems(policy: Manifest, settings: Settings) -> list[str]:
    problems = []
    name = policy["metadata"]["name"]
    for rule in policy["spec"].get("egress", []):
        ports = {p["port"] for p in rule.get("ports", [])}
        if not ports:
            problems.append(f"{name}: an egress rule without ports")
        if ports & MONITORING_PORTS:
            problems.append(f"{name}: egress to a monitoring port {ports & MONITORING_PORTS}")
        for peer in rule.get("to", []):
            if "namespaceSelector" in peer:
                labels = peer["namespaceSelector"].get("matchLabels", {})
                if settings.kubernetes_monitoring_namespace in labels.values() or not labels:
                    problems.append(f"{name}: egress to the monitoring namespace {peer}")
            if "ipBlock" in peer:
                problems += _reaches_cluster(name, peer["ipBlock"])
    return problems


def test_no_pod_of_the_stack_namespace_reaches_alertmanager_or_prometheus(
    objects: list[Manifest], settings: Settings
) -> None:
    policies = _policies(objects)
    deny = [p for p in policies if p["spec"]["podSelector"] == {}]
    assert deny and set(deny[0]["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    assert "egress" not in deny[0]["spec"] and "ingress" not in deny[0]["spec"]
    problems = [problem for p in policies for problem in _egress_problems(p, settings)]
    assert not problems, problems


def test_the_check_finds_an_egress_rule_to_alertmanager(objects: list[Manifest], settings: Settings) -> None:
    """Negative control: a policy letting the gateway reach the monitoring namespace is caught."""
    opened = {
        "metadata": {"name": "opened"},
        "spec": {
            "podSelector": {},
            "egress": [
                {
                    "to": [{"namespaceSelector": {"matchLabels": {"name": settings.kubernetes_monitoring_namespace}}}],
                    "ports": [{"protocol": "TCP", "port": 9093}],
                },
                {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"protocol": "TCP", "port": 443}]},
            ],
        },
    }
    assert len(_egress_problems(opened, settings)) == 2 + len(CLUSTER_RANGES)
