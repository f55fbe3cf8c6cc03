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


# The one Ingress class whose controller (ingress-nginx) the stack gives the login limit and the source
# allowlist as annotations (infra/targets/kubernetes_map/edge.py).
NGINX_INGRESS_CLASS = "nginx"
# What to configure instead, by the controller the stack's settings name.
_INSTEAD = {
    "traefik": "Traefik: the ipAllowList and rateLimit middlewares on the gateway's Ingress",
    "gateway-api": (
        "on the Gateway's controller, e.g. Envoy Gateway: a SecurityPolicy authorization by client CIDR and a "
        "BackendTrafficPolicy rateLimit on /api/v1/auth/login per client address"
    ),
}


def check_proxy_layer(
    routing: str, ingress_class: str, login_rate_limit_per_minute: int, source_allowlist: str
) -> None:
    """The login limit and the allowlist exist on Kubernetes only as ingress-nginx annotations: with another
    Ingress class or with Gateway API they would be silently dropped, so they are refused there (as Caddy's
    login limit is on Docker) until the operator configures them on the controller and sets them off here."""
    if routing == "ingress" and ingress_class == NGINX_INGRESS_CLASS:
        return
    given = []
    if login_rate_limit_per_minute > 0:
        given.append(f"{PROJECT}:proxyLoginRateLimitPerMinute = {login_rate_limit_per_minute}")
    if source_allowlist.strip():
        given.append(f"{PROJECT}:proxySourceAllowlist = {source_allowlist!r}")
    if not given:
        return
    if routing == "gateway-api":
        where = f"{PROJECT}:kubernetesRouting = 'gateway-api' (an HTTPRoute on the Gateway's controller)"
        instead = _INSTEAD["gateway-api"]
    else:
        where = f"{PROJECT}:kubernetesIngressClass = {ingress_class!r} (not {NGINX_INGRESS_CLASS!r}, ingress-nginx)"
        instead = _INSTEAD.get(ingress_class, "the controller's own per-client rate limit and source-address rules")
    raise ValueError(
        f"{' and '.join(given)} refused with {where}: the stack applies them on Kubernetes only as ingress-nginx "
        f"annotations (kubernetesRouting = 'ingress' with kubernetesIngressClass = {NGINX_INGRESS_CLASS!r}), so "
        "here they would be silently ignored, while the gateway sees every client as the controller (one login "
        f"bucket any client can spend, its private-clients guard admitting everyone); configure them on the "
        f"controller instead ({instead}), then set {PROJECT}:proxyLoginRateLimitPerMinute = 0 and "
        f"{PROJECT}:proxySourceAllowlist = '' (or use kubernetesIngressClass = {NGINX_INGRESS_CLASS!r})"
    )
