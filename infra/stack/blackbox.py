"""Outside-in probes: the blackbox exporter's modules, the probes a stack runs, and its service.

What a client sees is checked from outside the gateway's process: its /health (body included:
the 0.1.0 /health is a constant, so only a body that says `"status":"ok"` counts), the public
HTTPS endpoint through the reverse proxy (TLS handshake, certificate chain and expiry), the
HTTP -> HTTPS redirect, and the WebSocket on /ws/metrics.

The WebSocket needs an admin API key in `X-API-Key` (never as Bearer). The blackbox exporter
cannot read a header value from a file or the environment in Debian's 0.23 (newer releases have
`http_headers` with `files`, 0.23 has only `headers` with literal values), so the key would have
to sit in blackbox.yml. Instead the credentialed probe goes through `probe-auth`
(infra/stack/probe_auth.py), a tiny Caddy that adds the header from its environment at
request time: no file holds the key. The blackbox side of it is a TCP probe that sends the
upgrade request and expects `HTTP/1.1 101`: the HTTP prober would read the upgraded stream as
a body until its timeout. Through the reverse proxy the same credentialed upgrade goes through
probe-auth's second site, which sends it to the proxy's public HTTPS address (`proxy_hop`): it
must get `HTTP/1.1 101` too. The gateway checks credentials before routing (401 without one for
any path), so an uncredentialed probe could not tell a proxy that drops Upgrade/Connection from a
refused key; with the key, a dropped upgrade reaches the gateway as a plain GET and gets 404.

Pure functions of the settings: no I/O, no Pulumi. Module options stay within what Debian's 0.23 and the pinned
upstream image both accept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from infra.metrics.probes import (
    PROBE_HEALTH,
    PROBE_HTTPS,
    PROBE_LABEL,
    PROBE_REDIRECT,
    PROBE_WS_PROXY,
    PROBE_WS_UPGRADE,
    SLO_AVAILABILITY,
    SLO_LABEL,
)
from infra.monitoring import endpoints
from infra.monitoring.scrape import ScrapeTarget
from infra.settings import Settings
from infra.settings.secrets import PROXY_TLS_KEYS
from infra.stack import gateway, probe_auth, proxy
from infra.stack.parts import Part
from infra.stack.proxy_config import WEBSOCKET_PATH
from infra.stack.spec import (
    WGET,
    ConfigFile,
    Health,
    HttpCheck,
    Image,
    Metrics,
    Port,
    SecretFile,
    SecretRef,
    Service,
    Workload,
    resources,
)
from infra.yamlio import dump_readable

NAME = "blackbox"
HTTP = "http"  # the name of its port (/probe, its own /metrics, /-/healthy)
PORT = 9115
CONFIG_DIR = "/etc/friday-blackbox"
CONFIG_FILE = "blackbox.yml"
CONFIG_PATH = f"{CONFIG_DIR}/{CONFIG_FILE}"
PROBE_PATH = "/probe"
METRICS_PATH = "/metrics"
HEALTH_PATH = "/-/healthy"
# The self-signed proxy certificate, trusted by the HTTPS probes of a stack that generates it.
CA_PATH = f"{CONFIG_DIR}/tls/proxy-ca.pem"

# Module names (blackbox.yml); the probe names and labels are in infra/metrics/probes.py.
MODULE_HEALTH = "gateway_health"
MODULE_HTTPS = "public_https"
MODULE_REDIRECT = "http_redirect"
MODULE_WS_PROXY = "websocket_proxy_upgrade"
MODULE_WS_UPGRADE = "websocket_upgrade"

# A fixed key is fine: Sec-WebSocket-Key is a nonce against caches, not a secret; it must be
# 16 bytes in base64 (RFC 6455 4.1), or servers refuse the upgrade.
WEBSOCKET_KEY = "ZnJpZGF5LXByb2JlLWtleQ=="
UPGRADE_HEADERS: dict[str, str] = {
    "Upgrade": "websocket",
    "Connection": "Upgrade",
    "Sec-WebSocket-Key": WEBSOCKET_KEY,
    "Sec-WebSocket-Version": "13",
}


@dataclass(frozen=True)
class Probe:
    """One probe: Prometheus asks the exporter to run `module` against `target`."""

    name: str
    module: str
    target: str  # a URL (http prober) or host:port (tcp prober)
    slo: bool  # counts toward the availability SLI
    about: str

    @property
    def job(self) -> str:
        return f"probe-{self.name}"

    @property
    def labels(self) -> dict[str, str]:
        return {PROBE_LABEL: self.name, **({SLO_LABEL: SLO_AVAILABILITY} if self.slo else {})}


def runs_websocket_probe(settings: Settings) -> bool:
    """The credentialed WebSocket probe needs the admin API key the stack sets for /metrics."""
    return gateway.has_admin_key(settings)


def trusts_own_ca(settings: Settings) -> bool:
    """A generated self-signed certificate is the probe's trust anchor; an operator's certificate
    is checked against the image's system roots (so a broken chain fails the probe)."""
    return settings.proxy_enabled and settings.proxy_tls_source == "self-signed" and not settings.probe_public_url


def https_base(settings: Settings) -> str:
    """Where the public HTTPS probe connects: probePublicUrl, else the proxy inside the stack."""
    return settings.probe_public_url or f"https://{proxy.NAME}:{proxy.HTTPS_PORT}"


def redirect_location(settings: Settings) -> str:
    """The Location the proxy's HTTP listener must answer for /health (what clients are sent to)."""
    return f"{proxy.params(settings).https_base}{gateway.HEALTH_PATH}"


def probes(settings: Settings) -> tuple[Probe, ...]:
    found = [
        Probe(
            PROBE_HEALTH,
            MODULE_HEALTH,
            f"http://{gateway.address(settings)}{gateway.HEALTH_PATH}",
            True,
            "the gateway's /health from inside the stack, body included",
        )
    ]
    if runs_websocket_probe(settings):
        found.append(
            Probe(
                PROBE_WS_UPGRADE,
                MODULE_WS_UPGRADE,
                f"{probe_auth.NAME}:{probe_auth.PORT}",
                False,
                "the WebSocket upgrade on /ws/metrics with the admin key (through probe-auth)",
            )
        )
    if settings.proxy_enabled:
        base = https_base(settings)
        found += [
            Probe(
                PROBE_HTTPS,
                MODULE_HTTPS,
                f"{base}{gateway.HEALTH_PATH}",
                True,
                "the gateway's /health through the reverse proxy over verified TLS",
            ),
            Probe(
                PROBE_REDIRECT,
                MODULE_REDIRECT,
                f"http://{proxy.NAME}:{proxy.HTTP_PORT}{gateway.HEALTH_PATH}",
                False,
                "plain HTTP at the proxy answers a redirect to the HTTPS address",
            ),
        ]
        if runs_websocket_probe(settings):
            found.append(
                Probe(
                    PROBE_WS_PROXY,
                    MODULE_WS_PROXY,
                    f"{probe_auth.NAME}:{probe_auth.PROXY_PORT}",
                    False,
                    "the WebSocket upgrade on /ws/metrics with the admin key through the reverse proxy"
                    " (probe-auth to the HTTPS address)",
                )
            )
    return tuple(found)


def proxy_hop(settings: Settings) -> probe_auth.ProxyHop | None:
    """Where probe-auth sends the proxied upgrade: the address, Host, server name and trust anchor
    of the public HTTPS probe (`https_base`, `_tls`, `_host_header`)."""
    if not (settings.proxy_enabled and runs_websocket_probe(settings)):
        return None
    if settings.probe_public_url:
        # What clients use, checked against the system roots (like the HTTPS probe).
        url = urlsplit(settings.probe_public_url)
        hostname = url.hostname or ""
        return probe_auth.ProxyHop(f"{hostname}:{url.port or 443}", url.netloc, hostname, None)
    return probe_auth.ProxyHop(
        f"{proxy.NAME}:{proxy.HTTPS_PORT}",
        settings.proxy_server_name,
        settings.proxy_server_name,
        probe_auth.CA_PATH if trusts_own_ca(settings) else None,
    )


def _tls(settings: Settings) -> dict[str, Any]:
    tls: dict[str, Any] = {}
    if not settings.probe_public_url:
        tls["server_name"] = settings.proxy_server_name
    if trusts_own_ca(settings):
        tls["ca_file"] = CA_PATH
    return tls


def _host_header(settings: Settings) -> dict[str, str]:
    # Inside the stack the proxy is `proxy:8443`; it serves proxyServerName.
    return {} if settings.probe_public_url else {"Host": settings.proxy_server_name}


def modules(settings: Settings) -> dict[str, Any]:
    """blackbox.yml's modules (only those the stack's probes use)."""
    timeout = f"{settings.probe_timeout_seconds}s"
    body_ok = [settings.probe_health_body_regexp]
    http_common = {"preferred_ip_protocol": "ip4", "ip_protocol_fallback": False, "follow_redirects": False}
    defined: dict[str, Any] = {
        MODULE_HEALTH: {
            "prober": "http",
            "timeout": timeout,
            "http": {
                **http_common,
                "method": "GET",
                "valid_status_codes": [200],
                "fail_if_ssl": False,
                "fail_if_body_not_matches_regexp": body_ok,
            },
        },
        MODULE_HTTPS: {
            "prober": "http",
            "timeout": timeout,
            "http": {
                **http_common,
                "method": "GET",
                "valid_status_codes": [200],
                "fail_if_not_ssl": True,
                "headers": _host_header(settings),
                "tls_config": _tls(settings),
                "fail_if_body_not_matches_regexp": body_ok,
            },
        },
        MODULE_REDIRECT: {
            "prober": "http",
            "timeout": timeout,
            "http": {
                **http_common,
                "method": "GET",
                "valid_status_codes": [301, 308],
                "headers": {"Host": settings.proxy_server_name},
                "fail_if_header_not_matches": [
                    {"header": "Location", "regexp": f"^{re.escape(redirect_location(settings))}$"}
                ],
            },
        },
        MODULE_WS_PROXY: {
            "prober": "tcp",
            "timeout": timeout,
            "tcp": {
                "preferred_ip_protocol": "ip4",
                "ip_protocol_fallback": False,
                "query_response": [
                    # probe-auth sets Host (the proxy's name) and the key on its way to the proxy.
                    {"send": websocket_request(f"{probe_auth.NAME}:{probe_auth.PROXY_PORT}")},
                    {"expect": r"^HTTP/1\.1 101 "},
                ],
            },
        },
        MODULE_WS_UPGRADE: {
            "prober": "tcp",
            "timeout": timeout,
            "tcp": {
                "preferred_ip_protocol": "ip4",
                "ip_protocol_fallback": False,
                "query_response": [
                    {"send": websocket_request(gateway.address(settings))},
                    {"expect": r"^HTTP/1\.1 101 "},
                ],
            },
        },
    }
    used = {p.module for p in probes(settings)}
    return {name: module for name, module in defined.items() if name in used}


def websocket_request(host: str) -> str:
    """The upgrade request as the TCP prober sends it. blackbox appends one "\\n" to every `send`,
    so the text ends with "\\r\\n\\r" and the wire gets the blank line HTTP wants."""
    lines = [f"GET {WEBSOCKET_PATH} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in UPGRADE_HEADERS.items())]
    return "\r\n".join(lines) + "\r\n\r"


def config_text(settings: Settings) -> str:
    header = (
        f"# Blackbox exporter modules of stack {settings.stack!r}, generated from its settings\n"
        "# (infra/stack/blackbox.py). No credential is in here: see probe-auth.\n"
    )
    return header + dump_readable({"modules": modules(settings)})


def command() -> tuple[str, ...]:
    return (f"--config.file={CONFIG_PATH}", f"--web.listen-address=:{PORT}")


def probe_targets(settings: Settings) -> tuple[ScrapeTarget, ...]:
    """One Prometheus job per probe: `blackbox:9115/probe?module=...&target=...` at the probe interval."""
    return tuple(
        ScrapeTarget(
            job=probe.job,
            address=f"{NAME}:{PORT}",
            metrics_path=PROBE_PATH,
            labels=probe.labels,
            params={"module": [probe.module]},
            probe_target=probe.target,
            interval=settings.probe_interval,
            # One second more than the module's own timeout, so the exporter reports the failure.
            timeout=f"{settings.probe_timeout_seconds + 1}s",
        )
        for probe in probes(settings)
    )


def build(settings: Settings) -> Part:
    secret_files: tuple[SecretFile, ...] = ()
    if trusts_own_ca(settings):
        # The certificate is public, but it arrives through the secret that carries it to the proxy.
        secret_files = (SecretFile(CA_PATH, SecretRef(PROXY_TLS_KEYS[0]), mode="0444"),)
    service = Service(
        name=NAME,
        image=Image(settings.blackbox_image, settings.blackbox_tag),
        uid=endpoints.NOBODY,
        gid=endpoints.NOBODY,
        workload=Workload.STATELESS,
        resources=resources(settings.blackbox_memory_mb, settings.blackbox_cpu_millicores),
        health=Health(HttpCheck(HTTP, HEALTH_PATH, WGET), interval_s=30, start_period_s=10),
        command=command(),
        # Reached by Prometheus only; it reaches out to the probe targets.
        ports=(Port(HTTP, PORT),),
        # Its own metrics (probe durations, config reloads): the `blackbox` job.
        metrics=Metrics(HTTP),
        config_dir=CONFIG_DIR,
        files=(ConfigFile(CONFIG_PATH, config_text(settings)),),
        secret_files=secret_files,
        # The probes' targets: the gateway (and the proxy) exist before the exporter asks them.
        depends_on=(gateway.NAME, *((proxy.NAME,) if settings.proxy_enabled else ())),
        stop_grace_s=10,
    )
    services: tuple[Service, ...] = (service,)
    if runs_websocket_probe(settings):
        services = (probe_auth.service(settings, proxy_hop(settings)), service)
    return Part(services=services)
