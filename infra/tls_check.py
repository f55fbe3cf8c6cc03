"""The proxy's TLS secrets, checked before a deploy: PEM that parses, a key that matches its
certificate and is as strong as nginx and Caddy accept, a certificate that names proxyServerName and
is not expired or about to expire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from ipaddress import ip_address

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes, PublicKeyTypes

from infra import PROJECT

# A certificate this close to its end is refused: a deploy should not start a countdown to an outage.
MIN_REMAINING = timedelta(days=14)
# The weakest keys both proxies serve: nginx on OpenSSL 3 at its default security level 2 refuses RSA
# below 2048 bits ("ee key too small"); Caddy (Go's crypto/tls) serves only ECDSA on P-256, P-384 and
# P-521, RSA and Ed25519 (no DSA, no other curve, no Ed448).
MIN_RSA_BITS = 2048
EC_CURVES = ("secp256r1", "secp384r1", "secp521r1")
ALLOWED_KEYS = f"RSA of {MIN_RSA_BITS} bits or more, ECDSA on P-256, P-384 or P-521, or Ed25519"


def problems(cert_pem: str, key_pem: str, server_name: str, now: datetime | None = None) -> list[str]:
    """One line per problem; never prints a secret's content."""
    now = now or datetime.now(UTC)
    cert_key, key_key = f"{PROJECT}:proxyTlsCert", f"{PROJECT}:proxyTlsKey"
    try:
        chain = x509.load_pem_x509_certificates(cert_pem.encode())
    except ValueError:
        return [f"{cert_key} is not a PEM certificate (expected '-----BEGIN CERTIFICATE-----' blocks)"]
    try:
        key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    except (ValueError, TypeError):
        return [f"{key_key} is not an unencrypted PEM private key (expected '-----BEGIN ... PRIVATE KEY-----')"]
    leaf = chain[0]
    out: list[str] = []
    weak = key_weakness(key.public_key())
    if weak:
        out.append(f"{key_key} is {weak}, which nginx or Caddy would refuse to serve; allowed: {ALLOWED_KEYS}")
    for position, cert in enumerate(chain):
        weak = key_weakness(cert.public_key())
        if weak and position:
            out.append(
                f"{cert_key}: certificate {position + 1} of its chain holds {weak}, which nginx or Caddy would "
                f"refuse; allowed: {ALLOWED_KEYS}"
            )
    if _public_der(key.public_key()) != _public_der(leaf.public_key()):
        out.append(f"{key_key} does not belong to {cert_key} (their public keys differ); give the matching pair")
    names = _names(leaf)
    if not _matches(server_name, names):
        shown = ", ".join(names) or "no DNS name or IP address"
        out.append(f"{cert_key} does not name proxyServerName {server_name!r} in its subjectAltName (it names {shown})")
    if leaf.not_valid_after_utc <= now:
        out.append(f"{cert_key} expired on {leaf.not_valid_after_utc:%Y-%m-%d}; renew it")
    elif leaf.not_valid_after_utc - now < MIN_REMAINING:
        out.append(
            f"{cert_key} expires on {leaf.not_valid_after_utc:%Y-%m-%d}, in less than {MIN_REMAINING.days} days; "
            "renew it before deploying"
        )
    if leaf.not_valid_before_utc > now:
        out.append(f"{cert_key} is not valid before {leaf.not_valid_before_utc:%Y-%m-%d %H:%M} UTC")
    return out


def key_weakness(public: PublicKeyTypes | CertificatePublicKeyTypes) -> str | None:
    """What is too weak about a key, in words ('an RSA key of 1024 bits'); None when both proxies take it."""
    if isinstance(public, rsa.RSAPublicKey):
        return None if public.key_size >= MIN_RSA_BITS else f"an RSA key of {public.key_size} bits"
    if isinstance(public, ec.EllipticCurvePublicKey):
        return None if public.curve.name in EC_CURVES else f"an EC key on curve {public.curve.name}"
    if isinstance(public, ed25519.Ed25519PublicKey):
        return None
    if isinstance(public, dsa.DSAPublicKey):
        return f"a DSA key of {public.key_size} bits"
    if isinstance(public, ed448.Ed448PublicKey):
        return "an Ed448 key"
    return f"a {type(public).__name__} key"


def _public_der(public: PublicKeyTypes | CertificatePublicKeyTypes) -> bytes:
    return public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _names(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []  # current clients match host names against subjectAltName only, never the common name
    return [*san.get_values_for_type(x509.DNSName), *(str(a) for a in san.get_values_for_type(x509.IPAddress))]


def _matches(server_name: str, names: list[str]) -> bool:
    try:
        wanted = str(ip_address(server_name))
        return wanted in names
    except ValueError:
        pass
    host = server_name.lower().rstrip(".")
    for name in (n.lower().rstrip(".") for n in names):
        if name == host:
            return True
        # A wildcard covers exactly one leftmost label.
        if name.startswith("*.") and "." in host and host.split(".", 1)[1] == name[2:]:
            return True
    return False
