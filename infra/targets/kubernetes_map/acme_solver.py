"""cert-manager's HTTP-01 solver through the namespace's default-deny NetworkPolicy.

With kubernetesCertIssuer, cert-manager answers the ACME HTTP-01 challenge from a pod it creates in
the Ingress' namespace (the stack's), labelled `acme.cert-manager.io/http01-solver: "true"`, listening
on port 8089, behind a temporary Ingress of the same class. The default deny would drop the
controller's requests to it and the certificate would never be issued. This policy admits exactly
that: the ingress controller (ingress_sources.peers) to TCP 8089 of pods with that label; the solver
needs nothing else (it only answers). With a DNS-01 issuer no pod carries the label and the policy
selects nothing. The solver pod itself passes the namespace's Pod Security `restricted` (non-root,
RuntimeDefault seccomp, no privilege escalation, all capabilities dropped, cert-manager's defaults).
"""

from __future__ import annotations

from infra.settings import Settings
from infra.targets.kubernetes_map import ingress_sources
from infra.targets.kubernetes_map.meta import Manifest, metadata, name

SOLVER_LABEL = "acme.cert-manager.io/http01-solver"
SOLVER_PORT = 8089
COMPONENT = "acme-http01-solver"


def policy(settings: Settings) -> Manifest:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(settings, name(settings, COMPONENT), "network"),
        "spec": {
            "podSelector": {"matchLabels": {SOLVER_LABEL: "true"}},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": ingress_sources.peers(settings), "ports": [{"protocol": "TCP", "port": SOLVER_PORT}]}],
        },
    }


def objects(settings: Settings) -> list[Manifest]:
    """Only where cert-manager issues the Ingress' certificate (an HTTPRoute's is the Gateway's)."""
    if settings.kubernetes_routing == "ingress" and settings.kubernetes_cert_issuer:
        return [policy(settings)]
    return []
