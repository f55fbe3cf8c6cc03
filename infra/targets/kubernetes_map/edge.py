"""What the Ingress controller does for the gateway that the gateway cannot: per-client login limit
and the source allowlist (ingress-nginx annotations).

Behind the Ingress the gateway sees every client as the controller (it trusts no forwarded header):
its login limit is one bucket for every client and its private-clients guard admits everyone. With
ingress-nginx (kubernetesIngressClass nginx) the stack adds:
- `whitelist-source-range` from proxySourceAllowlist on every Ingress of the stack (403 for others);
- a second Ingress for the login route alone (Exact path) with `limit-rpm` (the limit applies to
  the paths of the Ingress that carries it, so the rest of the API is not limited by it) and
  `limit-burst-multiplier` (ingress-nginx's burst is limit-rpm times it, rounded up here).
Both are plain annotations, not snippets (ingress-nginx refuses configuration snippets by default).
Other controllers get neither, so settings/routing.py refuses the two settings with them (a silent
drop would leave the gateway unguarded); docs/deployment.md says what to configure there.
"""

from __future__ import annotations

import math

from infra.settings import Settings
from infra.settings.groups import source_networks
from infra.settings.routing import NGINX_INGRESS_CLASS
from infra.stack.proxy_config import LOGIN_PATH
from infra.targets.kubernetes_map.meta import Manifest

PREFIX = "nginx.ingress.kubernetes.io/"
LOGIN_SUFFIX = "login"


def applies(settings: Settings) -> bool:
    return settings.kubernetes_ingress_class == NGINX_INGRESS_CLASS


def source_annotations(settings: Settings) -> dict[str, str]:
    networks = source_networks(settings.proxy_source_allowlist)
    if not applies(settings) or not networks:
        return {}
    return {f"{PREFIX}whitelist-source-range": ",".join(networks)}


def login_annotations(settings: Settings) -> dict[str, str]:
    rpm = settings.proxy_login_rate_limit_per_minute
    multiplier = max(1, math.ceil(settings.proxy_login_rate_limit_burst / rpm))
    return {f"{PREFIX}limit-rpm": str(rpm), f"{PREFIX}limit-burst-multiplier": str(multiplier)}


def login_ingress(settings: Settings, main: Manifest) -> Manifest | None:
    """The login route alone, limited per client; None without ingress-nginx or with the limit off."""
    if not applies(settings) or settings.proxy_login_rate_limit_per_minute == 0:
        return None
    meta = {
        **main["metadata"],
        "name": f"{main['metadata']['name']}-{LOGIN_SUFFIX}",
        "labels": dict(main["metadata"]["labels"]),
    }
    # TLS comes from the main Ingress's certificate (same host and Secret); cert-manager's annotation
    # stays there only, so one Certificate is issued.
    annotations = {
        k: v for k, v in main["metadata"].get("annotations", {}).items() if not k.startswith("cert-manager.io/")
    }
    meta["annotations"] = {**annotations, **login_annotations(settings)}
    [rule] = main["spec"]["rules"]
    backend = rule["http"]["paths"][0]["backend"]
    return {
        "apiVersion": main["apiVersion"],
        "kind": "Ingress",
        "metadata": meta,
        "spec": {
            "ingressClassName": main["spec"]["ingressClassName"],
            "tls": main["spec"]["tls"],
            "rules": [
                {
                    "host": rule["host"],
                    "http": {"paths": [{"path": LOGIN_PATH, "pathType": "Exact", "backend": backend}]},
                }
            ],
        },
    }
