"""cert-manager's HTTP-01 solver passes the default deny: exactly the controller, to port 8089 of the
solver's pods (label acme.cert-manager.io/http01-solver: "true"), nothing else opened."""

from __future__ import annotations

from pathlib import Path

import yaml

from infra.targets.kubernetes_map import acme_solver, network
from tests.support.kubernetes import (
    Manifest,
    gateway_deployment,
    kubernetes_validate,
    variant_objects,
    variant_settings,
)
from tests.support.network_policy import Destination, Source, admitted, namespace_labels

# The labels cert-manager puts on a solver pod (the domain's and the token's hashes, and the marker).
SOLVER_POD = {
    "acme.cert-manager.io/http-domain": "1234567",
    "acme.cert-manager.io/http-token": "7654321",
    "acme.cert-manager.io/http01-solver": "true",
}


def _policies(objects: list[Manifest]) -> list[Manifest]:
    return [o for o in objects if o["kind"] == "NetworkPolicy"]


def test_the_controller_reaches_the_solver_on_8089_and_nothing_else_does() -> None:
    settings = variant_settings("minimal")  # kubernetesCertIssuer set
    policies = _policies(variant_objects("minimal"))
    solver = Destination(settings.kubernetes_namespace, SOLVER_POD, {"http": acme_solver.SOLVER_PORT})
    controller = Source(namespace_labels(settings.kubernetes_ingress_namespace), {"app": "ingress-nginx"})
    assert admitted(policies, solver, 8089, controller)
    assert not admitted(policies, solver, 80, controller)
    elsewhere = Source(namespace_labels("default"), {"app": "ingress-nginx"})
    assert not admitted(policies, solver, 8089, elsewhere)
    neighbour = Source(namespace_labels(settings.kubernetes_namespace), {"app.kubernetes.io/name": "gateway"})
    assert not admitted(policies, solver, 8089, neighbour)
    # Without the solver's policy the default deny drops the challenge (today's manifests).
    without = [p for p in policies if p["metadata"]["name"] != acme_solver.policy(settings)["metadata"]["name"]]
    assert not admitted(without, solver, 8089, controller)


def test_the_solver_policy_selects_only_solver_pods_and_opens_only_ingress() -> None:
    settings = variant_settings("minimal")
    objects = variant_objects("minimal")
    [policy] = [p for p in _policies(objects) if p == acme_solver.policy(settings)]
    assert policy["spec"]["podSelector"] == {"matchLabels": {"acme.cert-manager.io/http01-solver": "true"}}
    assert policy["spec"]["policyTypes"] == ["Ingress"] and "egress" not in policy["spec"]
    [rule] = policy["spec"]["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 8089}]
    # Not one of the stack's own pods carries the label: the policy opens nothing for them.
    for workload in (o for o in objects if o["kind"] in ("Deployment", "CronJob")):
        template = workload["spec"].get("template") or workload["spec"]["jobTemplate"]["spec"]["template"]
        assert acme_solver.SOLVER_LABEL not in template["metadata"]["labels"], workload["metadata"]["name"]
    gateway_pod = gateway_deployment(objects)["spec"]["template"]["metadata"]["labels"]
    gateway = Destination(settings.kubernetes_namespace, gateway_pod, {"http": settings.gateway_port})
    controller = Source(namespace_labels(settings.kubernetes_ingress_namespace))
    assert not admitted(_policies(objects), gateway, 8089, controller)


def test_no_solver_policy_without_a_cert_manager_issuer() -> None:
    for variant in ("full",):  # an existing TLS Secret: no challenge, no solver
        assert not [
            p for p in _policies(variant_objects(variant)) if p["metadata"]["name"].endswith(acme_solver.COMPONENT)
        ]
    assert acme_solver.objects(variant_settings("full")) == []
    assert network.objects(variant_settings("minimal"))[-1] == acme_solver.policy(variant_settings("minimal"))


def test_the_solver_policy_passes_kubernetes_validate_strict(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(acme_solver.policy(variant_settings("minimal"))), encoding="utf-8")
    assert kubernetes_validate([path], "1.29") == []
    assert kubernetes_validate([path], "1.37") == []
