"""`kubernetesRouting = gateway-api`: the gateway behind an HTTPRoute on an existing Gateway.

ingress-nginx was retired in March 2026; Gateway API (gateway.networking.k8s.io/v1) is what its
successors implement (Envoy Gateway, Cilium, Istio, NGINX Gateway Fabric, Traefik...). The cluster's
Gateway is the operator's (it is shared, and its HTTPS listener holds the certificate); the stack
only adds a route: the same host and the same paths as the Ingress (never /metrics), to the
gateway's Service port. The Gateway's listener must admit routes from the stack's namespace
(`allowedRoutes.namespaces`), or the route stays unattached (its status says so).

Path semantics match the Ingress': a PathPrefix matches whole path elements, as an Ingress Prefix
does, and Exact is exact. A long-lived WebSocket (/ws/metrics) gets whatever idle timeout the
implementation applies; HTTPRoute's standard `timeouts` bound a request, not an idle stream, so none
is set here.
"""

from __future__ import annotations

from infra.settings import Settings
from infra.targets.kubernetes_map import gateway_objects
from infra.targets.kubernetes_map.meta import Manifest, metadata, name

GROUP = "gateway.networking.k8s.io"
API_VERSION = f"{GROUP}/v1"
# Ingress pathType -> HTTPRoute path match type.
PATH_TYPES = {"Prefix": "PathPrefix", "Exact": "Exact"}


def is_gateway_api(obj: Manifest) -> bool:
    return str(obj["apiVersion"]).startswith(GROUP + "/")


def parent_ref(settings: Settings) -> dict[str, str]:
    ref = {"group": GROUP, "kind": "Gateway", "name": settings.kubernetes_gateway_name}
    if settings.kubernetes_gateway_namespace:
        ref["namespace"] = settings.kubernetes_gateway_namespace
    return ref


def http_route(settings: Settings) -> Manifest:
    backend = {
        "group": "",
        "kind": "Service",
        "name": gateway_objects.service_name(settings),
        "port": settings.gateway_port,
    }
    return {
        "apiVersion": API_VERSION,
        "kind": "HTTPRoute",
        "metadata": metadata(settings, name(settings, gateway_objects.COMPONENT), gateway_objects.COMPONENT),
        "spec": {
            "parentRefs": [parent_ref(settings)],
            "hostnames": [settings.kubernetes_ingress_host],
            "rules": [
                {
                    "matches": [{"path": {"type": PATH_TYPES[kind], "value": path}}],
                    "backendRefs": [backend],
                }
                for path, kind in gateway_objects.INGRESS_PATHS
            ],
        },
    }


def objects(settings: Settings) -> list[Manifest]:
    return [http_route(settings)] if settings.kubernetes_routing == "gateway-api" else []
