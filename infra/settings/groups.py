"""Settings groups, one class per area; `Settings` combines them into one flat key space.

Keys are flat (``friday:gatewayPort``) because Pulumi's project config schema types only
scalars and arrays; the prefix of each key names its area.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address
from typing import Annotated, Literal

from pydantic import Field

from infra.settings.base import (
    DockerSize,
    Duration,
    ImageRepo,
    ImageTag,
    NonRootId,
    Port,
    SettingsGroup,
)

_NAME = r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$"


class CoreSettings(SettingsGroup):
    target: Literal["docker", "kubernetes"] = Field(
        "docker", description="Where the stack runs: a single Docker host, or a Kubernetes cluster."
    )
    environment: Annotated[str, Field(pattern=_NAME)] = Field(
        "dev",
        description="Environment label (dev, staging, prod...): put on metrics, logs and resources. "
        "'prod' turns on the production safeguards.",
    )
    name_prefix: Annotated[str, Field(pattern=_NAME)] = Field(
        "friday", description="Prefix of every container, volume and network name."
    )


class GatewaySettings(SettingsGroup):
    gateway_image: ImageRepo = Field(
        "ghcr.io/maccracken/secureyeoman-core", description="Gateway image repository, without tag."
    )
    gateway_tag: ImageTag = Field("0.1.0", description="Gateway image tag; 'latest' is refused.")
    gateway_port: Port = Field(18789, description="Port the gateway listens on inside its container or pod.")
    gateway_host_port: Port = Field(18789, description="Port published on the Docker host.")
    gateway_bind_address: IPv4Address | IPv6Address = Field(
        IPv4Address("127.0.0.1"),
        description="Host address the published port binds to. Loopback by default; set 0.0.0.0 "
        "only behind a firewall or the reverse proxy.",
    )
    gateway_log_level: Literal["trace", "debug", "info", "warn", "error", "fatal"] = Field(
        "info", description="Gateway log level (SECUREYEOMAN_LOG_LEVEL)."
    )
    gateway_memory_mb: Annotated[int, Field(ge=128, le=65536)] = Field(
        1024, description="Memory limit of the gateway container in MiB; also the HighMemoryUsage denominator."
    )
    gateway_cpu_millicores: Annotated[int, Field(ge=100, le=64000)] = Field(
        1000, description="CPU limit of the gateway in millicores (1000 = one core)."
    )
    gateway_uid: NonRootId = Field(1000, description="Numeric user id the gateway runs as (never 0).")
    gateway_gid: NonRootId = Field(1000, description="Numeric group id the gateway runs as (never 0).")
    ai_provider: Literal["anthropic", "openai", "google"] = Field(
        "anthropic", description="AI provider whose API key secret is required."
    )


class DockerSettings(SettingsGroup):
    docker_log_max_size: DockerSize = Field("10m", description="Docker json-file log rotation: size of one file.")
    docker_log_max_files: Annotated[int, Field(ge=1, le=100)] = Field(
        5, description="Docker json-file log rotation: files kept per container."
    )
    docker_restart_policy: Literal["unless-stopped", "always", "on-failure"] = Field(
        "unless-stopped", description="Docker restart policy of every long-running container."
    )
    docker_init_image: ImageRepo = Field(
        "busybox", description="Image of the one-shot container that gives each data volume to its service user."
    )
    docker_init_tag: ImageTag = Field("1.37.0", description="Tag of dockerInitImage.")


class KubernetesSettings(SettingsGroup):
    kubernetes_namespace: Annotated[str, Field(pattern=_NAME)] = Field(
        "friday", description="Namespace of every Kubernetes resource of the stack."
    )
    kubernetes_storage_class: Annotated[str, Field(pattern=r"^$|^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")] = Field(
        "", description="StorageClass of persistent volume claims; empty means the cluster default."
    )


class MonitoringSettings(SettingsGroup):
    prometheus_retention_time: Duration = Field("15d", description="Prometheus TSDB retention by age.")
    prometheus_retention_size: Annotated[str, Field(pattern=r"^[1-9][0-9]*(B|KB|MB|GB|TB)$")] = Field(
        "5GB", description="Prometheus TSDB retention by size (B, KB, MB, GB, TB)."
    )


class OptionalPartsSettings(SettingsGroup):
    swagger_ui_enabled: bool = Field(False, description="Serve docs/openapi.yaml with Swagger UI (dev only).")
    swagger_ui_force: bool = Field(
        False, description="Allow swaggerUiEnabled on a 'prod' environment anyway (refused otherwise)."
    )
    proxy_enabled: bool = Field(False, description="Put a TLS reverse proxy in front of the gateway.")
    proxy_kind: Literal["nginx", "caddy"] = Field("nginx", description="Which reverse proxy to run.")


class SwaggerUiSettings(SettingsGroup):
    swagger_ui_image: ImageRepo = Field("swaggerapi/swagger-ui", description="Swagger UI image repository.")
    swagger_ui_tag: ImageTag = Field("v5.17.14", description="Swagger UI image tag (a release such as 'v5.17.14').")
    swagger_ui_host_port: Port = Field(
        18790, description="Host port of Swagger UI; it binds 127.0.0.1 only (an API explorer is never public)."
    )


class ProxySettings(SettingsGroup):
    proxy_server_name: Annotated[str, Field(pattern=r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")] = Field(
        "localhost", description="Host name the reverse proxy answers to; its TLS certificate must name it."
    )
    proxy_tls_source: Literal["secrets", "self-signed"] = Field(
        "secrets",
        description="Where the proxy's certificate comes from: the secrets proxyTlsCert/proxyTlsKey (PEM), or "
        "'self-signed': generated at deploy time (clients warn; refused on 'prod' environments).",
    )
    proxy_bind_address: IPv4Address | IPv6Address = Field(
        IPv4Address("127.0.0.1"),
        description="Host address the proxy's ports bind to. Loopback by default; 0.0.0.0 to serve the network.",
    )
    proxy_http_host_port: Port = Field(80, description="Host port of the proxy's HTTP listener (redirects to HTTPS).")
    proxy_https_host_port: Port = Field(443, description="Host port of the proxy's HTTPS listener.")
    proxy_rate_limit_per_second: Annotated[int, Field(ge=0, le=100000)] = Field(
        10,
        description="Requests per second per client address the proxy lets through (nginx limit_req); 0 turns "
        "proxy rate limiting off. Caddy 2 has no built-in rate limit: with proxyKind caddy this must be 0.",
    )
    proxy_rate_limit_burst: Annotated[int, Field(ge=0, le=100000)] = Field(
        20, description="Requests above the rate a client may send at once before getting 429 (nginx burst)."
    )
    proxy_nginx_image: ImageRepo = Field(
        "nginxinc/nginx-unprivileged", description="nginx image for proxyKind nginx (runs as uid 101 on port 8080)."
    )
    proxy_nginx_tag: ImageTag = Field("1.27.4-alpine", description="Tag of proxyNginxImage.")
    proxy_caddy_image: ImageRepo = Field("caddy", description="Caddy image for proxyKind caddy.")
    proxy_caddy_tag: ImageTag = Field("2.9.1-alpine", description="Tag of proxyCaddyImage.")
