"""kubernetesRouting = gateway-api: an HTTPRoute on an existing Gateway instead of the Ingress, and
controllers on the host network admitted by node networks.

No Gateway API CRD is available offline here, so the HTTPRoute is checked structurally against
what gateway.networking.k8s.io/v1 requires (see docs/deployment.md); the other objects of such a
stack still pass kubernetes-validate --strict.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.settings import Settings
from infra.stack import build_stack
from infra.targets.kubernetes_map import edge, gateway_api, gateway_objects, manifests
from testbed.settings import settings_of
from tests.support.kubernetes import (
    KUBE_BASE,
    Manifest,
    gateway_deployment,
    kubernetes_validate,
    variant_objects,
    write_manifests,
)
from tests.support.network_policy import Destination, Source, admitted, namespace_labels

GATEWAY_API = {
    "kubernetesRouting": "gateway-api",
    "kubernetesCertIssuer": "",
    "kubernetesGatewayName": "public",
    "kubernetesGatewayNamespace": "gateways",
    "kubernetesIngressNamespace": "envoy-gateway-system",
    # The login limit is the Gateway controller's to configure (settings/routing.py refuses it here).
    "proxyLoginRateLimitPerMinute": 0,
}


def _stack(plain: dict[str, Any]) -> tuple[Settings, list[Manifest]]:
    settings = settings_of({**KUBE_BASE, **plain}, frozenset({"anthropicApiKey"}), stack="prod")
    return settings, manifests.objects(settings, build_stack(settings))


def _is_login(ingress: dict[str, Any]) -> bool:
    return str(ingress["metadata"]["name"]).endswith(f"-{edge.LOGIN_SUFFIX}")


def test_gateway_api_routes_the_ingress_paths_to_the_service_and_adds_no_ingress() -> None:
    settings, objects = _stack(GATEWAY_API)
    assert not [o for o in objects if o["kind"] == "Ingress"]
    [route] = [o for o in objects if o["kind"] == "HTTPRoute"]
    assert route["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert route["metadata"]["namespace"] == settings.kubernetes_namespace
    assert route["spec"]["parentRefs"] == [
        {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "public", "namespace": "gateways"}
    ]
    assert route["spec"]["hostnames"] == ["friday.example.org"]
    # The same paths as the Ingress of an 'ingress' stack, never /metrics.
    _, ingress_objects = _stack({})
    # The stack's Ingress, not the login route's own (edge.py, with ingress-nginx and the login limit on).
    [ingress] = [o for o in ingress_objects if o["kind"] == "Ingress" and not _is_login(o)]
    ingress_paths = [(p["path"], p["pathType"]) for p in ingress["spec"]["rules"][0]["http"]["paths"]]
    route_paths = [(m["path"]["value"], m["path"]["type"]) for r in route["spec"]["rules"] for m in r["matches"]]
    assert route_paths == [(path, gateway_api.PATH_TYPES[kind]) for path, kind in ingress_paths]
    assert not [p for p, _ in route_paths if "metrics" in p and not p.startswith("/ws/")]
    # Every rule goes to the gateway's Service on the port number of its `http` port.
    [service] = [
        o for o in objects if o["kind"] == "Service" and o["metadata"]["name"] == gateway_objects.service_name(settings)
    ]
    http_port = {p["name"]: p["port"] for p in service["spec"]["ports"]}[gateway_objects.HTTP_PORT_NAME]
    for rule in route["spec"]["rules"]:
        assert rule["backendRefs"] == [
            {"group": "", "kind": "Service", "name": service["metadata"]["name"], "port": http_port}
        ]


def test_the_httproute_has_the_shape_gateway_api_v1_requires() -> None:
    """What the v1 HTTPRoute schema requires of the fields used (no CRD offline to validate against):
    at most 16 rules and 8 matches each, hostnames as DNS names, path values starting with '/',
    match types of the standard channel, parentRefs naming a Gateway, backendRefs with a port."""
    _, objects = _stack(GATEWAY_API)
    [route] = [o for o in objects if o["kind"] == "HTTPRoute"]
    spec = route["spec"]
    assert set(spec) == {"parentRefs", "hostnames", "rules"}
    assert 1 <= len(spec["parentRefs"]) <= 32 and 1 <= len(spec["rules"]) <= 16
    for ref in spec["parentRefs"]:
        assert set(ref) <= {"group", "kind", "namespace", "name", "sectionName", "port"} and ref["name"]
    for rule in spec["rules"]:
        assert set(rule) == {"matches", "backendRefs"} and 1 <= len(rule["matches"]) <= 8
        for match in rule["matches"]:
            assert set(match) == {"path"} and match["path"]["type"] in ("Exact", "PathPrefix")
            assert match["path"]["value"].startswith("/") and "//" not in match["path"]["value"]
        for ref in rule["backendRefs"]:
            assert set(ref) == {"group", "kind", "name", "port"} and 1 <= ref["port"] <= 65535


def test_the_other_objects_of_a_gateway_api_stack_pass_kubernetes_validate(tmp_path: Path) -> None:
    _, objects = _stack(GATEWAY_API)
    built_in = [o for o in objects if not manifests.is_custom(o) and not gateway_api.is_gateway_api(o)]
    assert kubernetes_validate(write_manifests(built_in, tmp_path), "1.37") == []


@pytest.mark.parametrize("plain", [GATEWAY_API, {}])
def test_a_controller_on_the_host_network_is_admitted_by_its_node_networks_only(plain: dict[str, Any]) -> None:
    settings, objects = _stack({**plain, "kubernetesIngressSourceCidrs": "10.20.0.0/24,fd00:20::/64"})
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    pod = gateway_deployment(objects)["spec"]["template"]
    ports = {p["name"]: p["containerPort"] for c in pod["spec"]["containers"] for p in c.get("ports", [])}
    gateway = Destination(settings.kubernetes_namespace, pod["metadata"]["labels"], ports)
    http, metrics = ports[gateway_objects.HTTP_PORT_NAME], ports["metrics"]
    for node in ("10.20.0.7", "fd00:20::7"):
        on_host = Source(ip=node, in_cluster_pod=False)
        assert admitted(policies, gateway, http, on_host), node
        assert not admitted(policies, gateway, metrics, on_host), node
    assert not admitted(policies, gateway, http, Source(ip="10.30.0.7", in_cluster_pod=False))
    # The controller's namespace is still admitted, and only it.
    assert admitted(policies, gateway, http, Source(namespace_labels(settings.kubernetes_ingress_namespace)))
    assert not admitted(policies, gateway, http, Source(namespace_labels("default")))


def test_without_node_networks_nothing_on_the_host_network_gets_in() -> None:
    settings, objects = _stack({})
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    pod = gateway_deployment(objects)["spec"]["template"]
    gateway = Destination(settings.kubernetes_namespace, pod["metadata"]["labels"], {})
    assert not admitted(policies, gateway, settings.gateway_port, Source(ip="10.20.0.7", in_cluster_pod=False))


def test_an_ingress_stack_is_unchanged_by_the_option() -> None:
    ingresses = [o for o in variant_objects("minimal") if o["kind"] == "Ingress"]
    assert len([o for o in ingresses if not _is_login(o)]) == 1
    assert not [o for o in variant_objects("minimal") if gateway_api.is_gateway_api(o)]
