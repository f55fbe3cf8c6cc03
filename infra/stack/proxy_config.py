"""Reverse proxy configuration as text: nginx and Caddy, from one set of parameters.

Both proxies do the same job: TLS termination, HTTP -> HTTPS redirect, the /ws/metrics
WebSocket with long timeouts, the gateway's 1 MB body limit, /metrics refused from outside,
security headers, an optional allowlist of client sources (403 for others), and (nginx only)
per-client rate limiting, of every request and, tighter, of the login route. Caddy 2 has no
built-in rate limit; the settings refuse caddy with a rate limit rather than pretend (see model.py).

The gateway sees every client as the proxy (it trusts no forwarded header): its own login limit is
one bucket for all clients and its private-clients guard admits everyone the proxy admits, so the
per-client login limit and the allowlist are here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from infra.stack.key_proxy import CADDY_STORAGE_DIR
from infra.stack.nginx_runtime import CONTAINER_RUNTIME, NginxRuntime, http_runtime, indent, main_context

# The gateway's Fastify bodyLimit (gateway.md); the proxy refuses larger bodies itself.
GATEWAY_BODY_LIMIT_BYTES = 1024 * 1024
WEBSOCKET_PATH = "/ws/metrics"
# The gateway's login route (packages/core/src/gateway/auth-routes.ts): limited per client here.
LOGIN_PATH = "/api/v1/auth/login"
# The scrape endpoint stays inside the stack network (Prometheus scrapes the gateway directly).
REFUSED_PREFIX = "/metrics"
# Answered on the plain HTTP listener to 127.0.0.1 only: the container healthcheck.
HEALTH_PATH = "/proxy-health"
# A WebSocket client may sit idle between messages for this long (the gateway sends every second).
WEBSOCKET_TIMEOUT_S = 3600
SECURITY_HEADERS: dict[str, str] = {
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


@dataclass(frozen=True)
class ProxyParams:
    server_name: str
    # Listen addresses: "8443" (all interfaces, in a container) or "127.0.0.1:8443".
    http_listen: str
    https_listen: str
    # The HTTPS port clients see (the published host port), for the redirect.
    https_public_port: int
    upstream: str  # host:port of the gateway
    cert_path: str
    key_path: str
    rate_per_second: int
    burst: int
    login_per_minute: int = 0
    login_burst: int = 0
    # Client addresses or networks served; empty: every client.
    allowlist: tuple[str, ...] = ()
    body_limit_bytes: int = GATEWAY_BODY_LIMIT_BYTES
    nginx_runtime: NginxRuntime = field(default_factory=lambda: CONTAINER_RUNTIME)
    caddy_storage_dir: str = CADDY_STORAGE_DIR

    @property
    def https_base(self) -> str:
        port = "" if self.https_public_port == 443 else f":{self.https_public_port}"
        return f"https://{self.server_name}{port}"


def _hostport(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return host, int(port)


def nginx_conf(p: ProxyParams) -> str:
    headers = [f'add_header {name} "{value}" always;' for name, value in SECURITY_HEADERS.items()]
    rate_zone: list[str] = []
    rate_use: list[str] = []
    if p.rate_per_second > 0:
        rate_zone = [
            f"limit_req_zone $binary_remote_addr zone=friday_per_client:10m rate={p.rate_per_second}r/s;",
            "limit_req_status 429;",
        ]
        # nginx refuses "burst=0": no burst is written as no burst parameter.
        burst = f" burst={p.burst} nodelay" if p.burst > 0 else ""
        rate_use = [f"limit_req zone=friday_per_client{burst};"]
    login_use: list[str] = []
    if p.login_per_minute > 0:
        rate_zone.append(f"limit_req_zone $binary_remote_addr zone=friday_login:10m rate={p.login_per_minute}r/m;")
        login_burst = f" burst={p.login_burst} nodelay" if p.login_burst > 0 else ""
        # A location with limit_req of its own inherits none from the server: both limits here.
        login_use = [*rate_use, f"limit_req zone=friday_login{login_burst};"]
    if rate_zone and "limit_req_status 429;" not in rate_zone:
        rate_zone.append("limit_req_status 429;")
    allow = [*(f"allow {source};" for source in p.allowlist), "deny all;"] if p.allowlist else []
    proxied = [
        "proxy_pass http://friday_gateway;",
        "proxy_set_header Host $host;",
        "proxy_set_header X-Real-IP $remote_addr;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header X-Forwarded-Proto https;",
    ]
    https_server = [
        f"listen {p.https_listen} ssl;",
        f"server_name {p.server_name};",
        f"ssl_certificate {p.cert_path};",
        f"ssl_certificate_key {p.key_path};",
        "ssl_protocols TLSv1.2 TLSv1.3;",
        "ssl_session_cache shared:friday_tls:10m;",
        "ssl_session_timeout 1h;",
        f"client_max_body_size {p.body_limit_bytes};",
        *rate_use,
        *allow,
        *headers,
        "",
        f"location = {REFUSED_PREFIX} {{ return 404; }}",
        f"location ^~ {REFUSED_PREFIX}/ {{ return 404; }}",
        "",
        f"location = {WEBSOCKET_PATH} {{",
        *indent(
            [
                *proxied,
                "proxy_http_version 1.1;",
                "proxy_set_header Upgrade $http_upgrade;",
                "proxy_set_header Connection $connection_upgrade;",
                f"proxy_read_timeout {WEBSOCKET_TIMEOUT_S}s;",
                f"proxy_send_timeout {WEBSOCKET_TIMEOUT_S}s;",
                "proxy_buffering off;",
            ]
        ),
        "}",
        "",
        *(
            [
                f"location = {LOGIN_PATH} {{",
                *indent([*login_use, *proxied, "proxy_http_version 1.1;", 'proxy_set_header Connection "";']),
                "}",
                "",
            ]
            if login_use
            else []
        ),
        "location / {",
        *indent([*proxied, "proxy_http_version 1.1;", 'proxy_set_header Connection "";']),
        "}",
    ]
    http_server = [
        f"listen {p.http_listen};",
        f"server_name {p.server_name};",
        f"location = {HEALTH_PATH} {{",
        # `return` would answer in the rewrite phase, before allow/deny (access phase) are
        # consulted: stub_status answers in the content phase, after them.
        *indent(["allow 127.0.0.1;", "deny all;", "access_log off;", "stub_status;"]),
        "}",
        f"location / {{ return 308 {p.https_base}$request_uri; }}",
    ]
    http = [
        "include /etc/nginx/mime.types;",
        "default_type application/octet-stream;",
        f"access_log {p.nginx_runtime.access_log};",
        *http_runtime(p.nginx_runtime),
        # Upgrade only when the client asked for it; otherwise close like plain HTTP.
        "map $http_upgrade $connection_upgrade { default upgrade; '' close; }",
        *rate_zone,
        "",
        "upstream friday_gateway {",
        *indent([f"server {p.upstream};", "keepalive 16;"]),
        "}",
        "",
        "server {",
        *indent(http_server),
        "}",
        "",
        "server {",
        *indent(https_server),
        "}",
    ]
    lines = [
        "# Generated by friday-infra from the stack settings: TLS reverse proxy for the gateway.",
        *main_context(p.nginx_runtime, worker_connections=1024),
        "http {",
        *indent(http),
        "}",
    ]
    return "\n".join(lines) + "\n"


def caddyfile(p: ProxyParams) -> str:
    """Caddyfile for Caddy 2.6+ (tabs, as `caddy fmt` writes them)."""
    http_host, http_port = _hostport(p.http_listen)
    https_host, https_port = _hostport(p.https_listen)
    headers = [f'{name} "{value}"' for name, value in SECURITY_HEADERS.items()]
    glob = [
        "admin off",
        # The redirect is ours: Caddy's own would name the container port, not the published one.
        "auto_https disable_redirects",
        f"http_port {http_port}",
        f"https_port {https_port}",
        f"default_sni {p.server_name}",
        f"storage file_system {p.caddy_storage_dir}",
    ]
    https_site = [
        *([f"bind {https_host}"] if https_host else []),
        f"tls {p.cert_path} {p.key_path}",
        # The allowlist (remote_ip is the TCP peer: Caddy trusts no forwarded header by default).
        *([f"@outside not remote_ip {' '.join(p.allowlist)}", "respond @outside 403"] if p.allowlist else []),
        "header {",
        *_tab([*headers, "-Server"]),
        "}",
        # max_size alone turns an oversize body with a Content-Length into a 502 (Caddy 2.6 reverse_proxy):
        # refuse it from the header first, and keep max_size for bodies without a length.
        "@oversize expression " + _oversize_cel(p.body_limit_bytes),
        'respond @oversize "request body too large" 413',
        "request_body {",
        *_tab([f"max_size {p.body_limit_bytes}B"]),
        "}",
        f"@refused path {REFUSED_PREFIX} {REFUSED_PREFIX}/*",
        "respond @refused 404",
        # Caddy passes WebSocket upgrades through and sets no read timeout on them.
        f"reverse_proxy {p.upstream} {{",
        *_tab(["flush_interval -1"]),
        "}",
    ]
    http_site = [
        *([f"bind {http_host}"] if http_host else []),
        "@health {",
        *_tab([f"path {HEALTH_PATH}", "remote_ip 127.0.0.1"]),
        "}",
        # handle blocks: otherwise Caddy's directive order runs redir before respond.
        "handle @health {",
        *_tab(['respond "ok" 200']),
        "}",
        "handle {",
        *_tab([f"redir {p.https_base}{{uri}} 308"]),
        "}",
    ]
    lines = [
        "# Generated by friday-infra from the stack settings: TLS reverse proxy for the gateway.",
        "# No rate limiting: Caddy 2 has none built in (the settings require proxyRateLimitPerSecond = 0",
        "# and proxyLoginRateLimitPerMinute = 0; proxySourceAllowlist restricts clients).",
        "{",
        *_tab(glob),
        "}",
        "",
        f"https://{p.server_name}:{https_port} {{",
        *_tab(https_site),
        "}",
        "",
        f"http://:{http_port} {{",
        *_tab(http_site),
        "}",
    ]
    return "\n".join(lines) + "\n"


def _oversize_cel(limit: int) -> str:
    # The digit check first: int() of a missing header would be an evaluation error.
    length = "{http.request.header.Content-Length}"
    return f'`{length}.matches("^[0-9]+$") && int({length}) > {limit}`'


def _tab(lines: list[str]) -> list[str]:
    return [f"\t{line}" for line in lines]
