"""Cross-checks of `kubernetesRouting = gateway-api`: an HTTPRoute on an existing Gateway."""

from __future__ import annotations

from infra import PROJECT


def check_gateway_api(gateway_name: str, tls_secret: str, cert_issuer: str) -> None:
    """The HTTPRoute needs a Gateway to attach to; the certificate belongs to that Gateway's listener.
    (Field values, not the model: settings/model.py calls this, and a module it imports does not import it.)"""
    if not gateway_name:
        raise ValueError(
            f"{PROJECT}:kubernetesRouting = 'gateway-api' needs {PROJECT}:kubernetesGatewayName, the existing "
            "Gateway the gateway's HTTPRoute attaches to (and kubernetesGatewayNamespace if it is not in the "
            "stack's namespace)"
        )
    if tls_secret or cert_issuer:
        raise ValueError(
            f"{PROJECT}:kubernetesRouting = 'gateway-api' with {PROJECT}:kubernetesTlsSecret = "
            f"{tls_secret!r} and {PROJECT}:kubernetesCertIssuer = "
            f"{cert_issuer!r}: an HTTPRoute holds no certificate, the Gateway's HTTPS listener "
            f"does (give it one there, for instance with cert-manager's Gateway support); leave both empty"
        )
