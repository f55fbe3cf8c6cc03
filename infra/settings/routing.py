"""Cross-checks of `kubernetesRouting = gateway-api`: an HTTPRoute on an existing Gateway."""

from __future__ import annotations

from typing import TYPE_CHECKING

from infra import PROJECT

if TYPE_CHECKING:
    from infra.settings.model import Settings


def check_gateway_api(settings: Settings) -> None:
    """The HTTPRoute needs a Gateway to attach to; the certificate belongs to that Gateway's listener."""
    if not settings.kubernetes_gateway_name:
        raise ValueError(
            f"{PROJECT}:kubernetesRouting = 'gateway-api' needs {PROJECT}:kubernetesGatewayName, the existing "
            "Gateway the gateway's HTTPRoute attaches to (and kubernetesGatewayNamespace if it is not in the "
            "stack's namespace)"
        )
    if settings.kubernetes_tls_secret or settings.kubernetes_cert_issuer:
        raise ValueError(
            f"{PROJECT}:kubernetesRouting = 'gateway-api' with {PROJECT}:kubernetesTlsSecret = "
            f"{settings.kubernetes_tls_secret!r} and {PROJECT}:kubernetesCertIssuer = "
            f"{settings.kubernetes_cert_issuer!r}: an HTTPRoute holds no certificate, the Gateway's HTTPS listener "
            f"does (give it one there, for instance with cert-manager's Gateway support); leave both empty"
        )
