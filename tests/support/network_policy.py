"""What a namespace's NetworkPolicies admit: the ingress half of the Kubernetes semantics, offline.

A pod selected by no policy of type Ingress admits everything; once selected, a connection is
admitted when some selecting policy has an ingress rule whose `from` matches the source (a peer with
namespaceSelector and/or podSelector, or an ipBlock with its `except`) and whose `ports` match
(no ports: every port; a named port resolves against the destination container's ports).
Only matchLabels selectors are read (the stack writes no matchExpressions): any other selector
key fails loudly rather than matching by accident.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

Manifest = dict[str, Any]


@dataclass(frozen=True)
class Source:
    """Where a connection comes from: a pod (its namespace's labels and its own) or a bare address."""

    namespace_labels: dict[str, str] = field(default_factory=dict)
    pod_labels: dict[str, str] = field(default_factory=dict)
    ip: str = ""
    in_cluster_pod: bool = True


@dataclass(frozen=True)
class Destination:
    namespace: str
    pod_labels: dict[str, str]
    named_ports: dict[str, int]


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    unknown = set(selector) - {"matchLabels"}
    if unknown:
        raise AssertionError(f"selector keys this evaluator does not read: {sorted(unknown)}")
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def _in_block(block: dict[str, Any], ip: str) -> bool:
    if not ip:
        return False
    address = ipaddress.ip_address(ip)
    inside = address in ipaddress.ip_network(block["cidr"])
    return inside and not any(address in ipaddress.ip_network(e) for e in block.get("except", []))


def _peer_matches(peer: dict[str, Any], source: Source, policy_namespace: str) -> bool:
    if "ipBlock" in peer:
        return _in_block(peer["ipBlock"], source.ip)
    if not source.in_cluster_pod:
        return False
    if "namespaceSelector" in peer:
        namespace_ok = _selects(peer["namespaceSelector"], source.namespace_labels)
    else:  # a podSelector alone selects pods of the policy's own namespace
        namespace_ok = source.namespace_labels.get("kubernetes.io/metadata.name") == policy_namespace
    return namespace_ok and ("podSelector" not in peer or _selects(peer["podSelector"], source.pod_labels))


def _port_matches(ports: list[dict[str, Any]] | None, port: int, dest: Destination) -> bool:
    if not ports:
        return True
    for p in ports:
        if p.get("protocol", "TCP") != "TCP":
            continue
        number = dest.named_ports.get(p["port"]) if isinstance(p["port"], str) else p["port"]
        if number == port:
            return True
    return False


def admitted(policies: list[Manifest], dest: Destination, port: int, source: Source) -> bool:
    selecting = [
        p
        for p in policies
        if p["metadata"]["namespace"] == dest.namespace
        and "Ingress" in p["spec"].get("policyTypes", ["Ingress"])
        and _selects(p["spec"]["podSelector"], dest.pod_labels)
    ]
    if not selecting:
        return True
    return any(
        ("from" not in rule or any(_peer_matches(peer, source, dest.namespace) for peer in rule["from"]))
        and _port_matches(rule.get("ports"), port, dest)
        for p in selecting
        for rule in p["spec"].get("ingress", [])
    )


def namespace_labels(name: str) -> dict[str, str]:
    return {"kubernetes.io/metadata.name": name}
