"""The optional TLS reverse proxy in front of the gateway (nginx or Caddy).

When it runs, the gateway's own port is no longer published: clients reach the gateway only
through the proxy, over the stack network. Both images run as uid 101 on ports above 1024 with a
read-only root filesystem; the certificate and key arrive as secret files.
"""

from __future__ import annotations

from infra.settings import Settings
from infra.settings.groups import source_networks
from infra.settings.secrets import PROXY_TLS_KEYS
from infra.stack import gateway, key_proxy
from infra.stack.parts import Part
from infra.stack.proxy_config import HEALTH_PATH, ProxyParams, caddyfile, nginx_conf
from infra.stack.spec import (
    WGET,
    ConfigFile,
    EnvValue,
    Health,
    HostBinding,
    HttpCheck,
    Image,
    Port,
    Reach,
    SecretFile,
    SecretRef,
    Service,
    Shutdown,
    Workload,
    resources,
)

NAME = "proxy"
CONFIG_DIR = "/etc/friday-proxy"
CERT_PATH = f"{CONFIG_DIR}/tls/cert.pem"
KEY_PATH = f"{CONFIG_DIR}/tls/key.pem"
# Unprivileged ports inside the container; the host ports are settings.
HTTP_PORT = 8080
HTTPS_PORT = 8443
HTTP, HTTPS = "http", "https"  # the names of those ports
# nginx-unprivileged's user; Caddy's image runs as any uid.
UID = GID = 101
RESOURCES = resources(memory_mb=128, cpu_millicores=500)
CONFIG_FILE = {"nginx": "nginx.conf", "caddy": "Caddyfile"}


def params(settings: Settings) -> ProxyParams:
    return ProxyParams(
        server_name=settings.proxy_server_name,
        http_listen=str(HTTP_PORT),
        https_listen=str(HTTPS_PORT),
        https_public_port=settings.proxy_https_host_port,
        upstream=f"{gateway.NAME}:{gateway.port(settings).number}",
        cert_path=CERT_PATH,
        key_path=KEY_PATH,
        rate_per_second=settings.proxy_rate_limit_per_second,
        burst=settings.proxy_rate_limit_burst,
        login_per_minute=settings.proxy_login_rate_limit_per_minute,
        login_burst=settings.proxy_login_rate_limit_burst,
        allowlist=tuple(source_networks(settings.proxy_source_allowlist)),
    )


def config_text(settings: Settings) -> str:
    p = params(settings)
    return nginx_conf(p) if settings.proxy_kind == "nginx" else caddyfile(p)


def build(settings: Settings) -> Part:
    if not settings.proxy_enabled:
        return Part()
    config_path = f"{CONFIG_DIR}/{CONFIG_FILE[settings.proxy_kind]}"
    env: dict[str, EnvValue] = {}
    caps: tuple[str, ...] = ()
    if settings.proxy_kind == "nginx":
        image = Image(settings.proxy_nginx_image, settings.proxy_nginx_tag)
        # An absolute path as the first word makes the image's entrypoint skip its config scripts.
        command: tuple[str, ...] = ("/usr/sbin/nginx", "-c", config_path, "-g", "daemon off;")
        shutdown = Shutdown.GRACEFUL_QUIT
    else:
        image = Image(settings.proxy_caddy_image, settings.proxy_caddy_tag)
        command = key_proxy.command(config_path)
        env = dict(key_proxy.CADDY_ENV)
        # The image's caddy binary carries the file capability cap_net_bind_service=+ep: exec fails
        # when that capability is not in the bounding set, even on unprivileged ports
        # (caddyserver/caddy-docker#396).
        caps = ("NET_BIND_SERVICE",)
        shutdown = Shutdown.TERM
    bind = str(settings.proxy_bind_address)
    service = Service(
        name=NAME,
        image=image,
        uid=UID,
        gid=GID,
        workload=Workload.STATELESS,
        resources=RESOURCES,
        health=Health(HttpCheck(HTTP, HEALTH_PATH, WGET), interval_s=15, start_period_s=5),
        command=command,
        env=env,
        ports=(
            Port(HTTP, HTTP_PORT, Reach.PUBLIC, HostBinding(bind, settings.proxy_http_host_port)),
            Port(HTTPS, HTTPS_PORT, Reach.PUBLIC, HostBinding(bind, settings.proxy_https_host_port), scheme="https"),
        ),
        config_dir=CONFIG_DIR,
        files=(ConfigFile(config_path, config_text(settings)),),
        secret_files=(
            SecretFile(CERT_PATH, SecretRef(PROXY_TLS_KEYS[0]), mode="0444"),
            SecretFile(KEY_PATH, SecretRef(PROXY_TLS_KEYS[1])),
        ),
        capabilities_add=caps,
        # nginx resolves the upstream name when it starts: the gateway must be on the network first.
        depends_on=(gateway.NAME,),
        shutdown=shutdown,
        stop_grace_s=10,
    )
    return Part(services=(service,))
