"""A self-signed certificate for the reverse proxy, generated at deploy time (dev only).

Used when proxyTlsSource is 'self-signed' and the stack has no proxyTlsCert/proxyTlsKey: the
key and certificate live encrypted in the stack state, like the generated passwords. Browsers
and clients will warn about it; the settings refuse it on 'prod' environments.
"""

from __future__ import annotations

import pulumi
import pulumi_tls as tls

from infra.settings import Settings
from infra.settings.secrets import PROXY_TLS_KEYS

VALIDITY_HOURS = 24 * 365


def self_signed(settings: Settings, parent: pulumi.Resource | None = None) -> dict[str, pulumi.Output[str]]:
    """{proxyTlsCert, proxyTlsKey} as secret Outputs, or {} when the stack gives its own."""
    if not settings.proxy_enabled or settings.proxy_tls_source != "self-signed":
        return {}
    pulumi.log.warn(
        f"proxyTlsSource = 'self-signed': the proxy serves a generated certificate for "
        f"{settings.proxy_server_name} that no client trusts; set proxyTlsCert/proxyTlsKey for real use"
    )
    opts = pulumi.ResourceOptions(parent=parent)
    key = tls.PrivateKey(f"{settings.name_prefix}-proxy-tls-key", algorithm="ECDSA", ecdsa_curve="P256", opts=opts)
    names = [settings.proxy_server_name]
    cert = tls.SelfSignedCert(
        f"{settings.name_prefix}-proxy-tls-cert",
        private_key_pem=key.private_key_pem,
        subject=tls.SelfSignedCertSubjectArgs(common_name=settings.proxy_server_name, organization="friday-infra"),
        dns_names=names,
        ip_addresses=["127.0.0.1"],
        validity_period_hours=VALIDITY_HOURS,
        early_renewal_hours=24 * 30,
        allowed_uses=["key_encipherment", "digital_signature", "server_auth"],
        opts=opts,
    )
    return {
        PROXY_TLS_KEYS[0]: pulumi.Output.secret(cert.cert_pem),
        PROXY_TLS_KEYS[1]: pulumi.Output.secret(key.private_key_pem),
    }
