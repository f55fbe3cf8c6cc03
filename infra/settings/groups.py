"""Settings groups, one class per area; `Settings` combines them into one flat key space.

Keys are flat (``friday:gatewayPort``) because Pulumi's project config schema types only
scalars and arrays; the prefix of each key names its area.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from ipaddress import IPv4Address, IPv6Address, ip_network
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from infra import crds
from infra.settings import gateway_cost, grammar
from infra.settings.base import (
    DockerSize,
    Duration,
    ImageRepo,
    ImageTag,
    NonRootId,
    Port,
    PositiveDuration,
    SettingsGroup,
)
from infra.settings.cidrs import CidrList
from infra.settings.defaults import GATEWAY_DATA_DIR, LOKI_HTTP_PORT
from infra.settings.system_paths import system_folder

_NAME = r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$"


class CoreSettings(SettingsGroup):
    target: Literal["docker", "kubernetes"] = Field(
        "docker", description="Where the stack runs: a single Docker host, or a Kubernetes cluster."
    )
    environment: Annotated[str, Field(pattern=_NAME)] = Field(
        "dev",
        description="Environment label (dev, staging, prod...): put on metrics, logs and resources. Only "
        "'dev' and 'local' are development environments; every other name gets every production safeguard.",
    )
    gateway_environment: Literal["development", "staging", "production"] | None = Field(
        None,
        description="What the gateway itself is told it runs as (SECUREYEOMAN_ENV): gateway 0.1.0 accepts only "
        "development, staging or production and exits at start on anything else. Default from environment: "
        "'dev' and 'local' -> development, 'staging' -> staging, every other name -> production. Labels on "
        "metrics, logs and dashboards keep the stack's own environment name.",
    )
    name_prefix: Annotated[str, Field(pattern=_NAME)] = Field(
        "friday", description="Prefix of every container, volume and network name."
    )
    force: str = Field(
        "",
        description="Comma-separated safeguards to override, each a choice with known consequences that is "
        "refused otherwise: long-scrape-interval, long-evaluation-interval, anonymous-grafana, swagger-ui, "
        "self-signed-certificate, gateway-on-every-address, monitoring-on-every-address (see "
        "docs/deployment.md#safeguards).",
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
    gateway_log_level: Literal["trace", "debug", "info", "warn", "error"] = Field(
        "info",
        description="Gateway log level, written as logging.level into its config file (the levels the gateway "
        "accepts; any other value stops it at start). Request lines are logged at debug only.",
    )
    gateway_memory_mb: Annotated[int, Field(ge=128, le=65536)] = Field(
        gateway_cost.DEFAULT_MEMORY_MIB,
        description="Memory limit of the gateway in MiB; also the HighMemoryUsage denominator. Gateway 0.1.0's "
        "memory grows with its audit log (about 1 GiB at 350k entries, 1.8 GiB at 500k): the default holds "
        "the audit log up to where a scrape reaches the default gatewayScrapeTimeout; GatewayAuditLogLarge "
        "warns at half of what this limit and that timeout allow.",
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


ChartVersion = Annotated[str, Field(pattern=r"^[0-9]+\.[0-9]+\.[0-9]+$")]


def _pinned_operator(value: str) -> str:
    if value not in crds.CHECKSUMS:
        raise ValueError(
            f"the CRDs are applied only with pinned checksums: pinned are {', '.join(sorted(crds.CHECKSUMS))} "
            "(infra/crds.py)"
        )
    return value


def _source_allowlist(value: str) -> str:
    """Comma-separated IP addresses or networks; empty is allowed (no allowlist)."""
    for item in (i.strip() for i in value.split(",") if i.strip()):
        try:
            ip_network(item, strict=True)
        except ValueError as err:
            raise ValueError(f"{item!r} is not an IP address or network ({err})") from None
    return ",".join(i.strip() for i in value.split(",") if i.strip())


def source_networks(value: str) -> list[str]:
    return [i for i in value.split(",") if i]


def _label_pairs(value: str) -> str:
    pairs = [p.strip() for p in value.split(",") if p.strip()]
    if not pairs:
        raise ValueError("give at least one key=value label")
    for pair in pairs:
        key, eq, val = pair.partition("=")
        if not eq:
            raise ValueError(f"{pair!r} is not key=value")
        problem = grammar.label_key_problem(key)
        if problem:
            raise ValueError(f"the label key {key!r} {problem}")
        problem = grammar.label_value_problem(val)
        if problem:
            raise ValueError(f"the label value {val!r} (of {key!r}) {problem}")
    return ",".join(pairs)


def _zero_or_256(value: int) -> int:
    if 0 < value < 256:
        raise ValueError("give 0 (sized from the expected series) or at least 256 MiB")
    return value


def label_pairs(value: str) -> dict[str, str]:
    """A validated 'k=v,k2=v2' setting as a dict."""
    return dict(p.split("=", 1) for p in value.split(",") if p)


class KubernetesSettings(SettingsGroup):
    kubernetes_namespace: Annotated[str, Field(pattern=_NAME)] = Field(
        "friday", description="Namespace of every Kubernetes resource of the stack."
    )
    kubernetes_storage_class: grammar.OptionalDnsSubdomain = Field(
        "", description="StorageClass of persistent volume claims; empty means the cluster default."
    )
    kubernetes_context: Annotated[str, Field(pattern=r"^$|^[A-Za-z0-9@:._/-]{1,253}$")] = Field(
        "",
        description="kubeconfig context `make up`/`make preview` and the program deploy to; empty: the "
        "kubeconfig's current context.",
    )
    kubernetes_gateway_storage_gb: Annotated[int, Field(ge=1, le=16384)] = Field(
        10, description="Size in GiB of the gateway's ReadWriteOnce data claim (SQLite databases)."
    )
    kubernetes_backup_storage_gb: Annotated[int, Field(ge=1, le=16384)] = Field(
        20, description="Size in GiB of the claim the backup CronJob writes to."
    )
    kubernetes_secret_version: Annotated[int, Field(ge=1, le=1_000_000)] = Field(
        1,
        description="Part of the gateway Secret's name: raise it after changing a secret's value so the pod "
        "is replaced and reads the new value (the name never depends on the values themselves).",
    )
    kubernetes_ingress_host: grammar.OptionalIngressHost = Field(
        "", description="Host name the gateway's Ingress serves (TLS); required on the kubernetes target."
    )
    kubernetes_ingress_class: grammar.DnsSubdomain = Field(
        "nginx", description="IngressClass of the gateway's Ingress ('nginx' also gets ingress-nginx timeouts)."
    )
    kubernetes_ingress_namespace: grammar.DnsLabel = Field(
        "ingress-nginx",
        description="Namespace the ingress controller runs in: the only namespace, besides Prometheus', "
        "whose pods may reach the gateway (NetworkPolicy).",
    )
    kubernetes_tls_secret: grammar.OptionalDnsSubdomain = Field(
        "",
        description="Existing kubernetes.io/tls Secret (in the stack's namespace) the Ingress serves; "
        "or leave empty and set kubernetesCertIssuer.",
    )
    kubernetes_cert_issuer: grammar.OptionalDnsSubdomain = Field(
        "",
        description="cert-manager ClusterIssuer that issues the Ingress certificate (into the Secret "
        "<namePrefix>-gateway-tls); used when kubernetesTlsSecret is empty.",
    )
    kubernetes_monitoring_mode: Literal["existing", "install"] = Field(
        "existing",
        description="'existing': the cluster runs kube-prometheus-stack already (ServiceMonitor, "
        "PrometheusRule, dashboards, AlertmanagerConfig are added to it); 'install': also install "
        "kube-prometheus-stack, Loki and Alloy from their pinned charts.",
    )
    kubernetes_monitoring_namespace: grammar.DnsLabel = Field(
        "monitoring",
        description="Namespace where Prometheus runs ('existing') or where the charts are installed "
        "('install'); its Prometheus pods may scrape the gateway's metrics port.",
    )
    kubernetes_prometheus_selector: Annotated[str, AfterValidator(_label_pairs)] = Field(
        "release=kube-prometheus-stack",
        description="Labels (key=value, comma-separated) kube-prometheus-stack selects ServiceMonitors, "
        "PrometheusRules and AlertmanagerConfigs by ('release=<its Helm release name>').",
    )
    kube_prometheus_stack_chart_version: ChartVersion = Field(
        "88.0.0", description="kube-prometheus-stack chart version installed in 'install' mode."
    )
    loki_chart_version: ChartVersion = Field(
        "18.13.7", description="Loki chart version (grafana-community) installed in 'install' mode."
    )
    alloy_chart_version: ChartVersion = Field(
        "1.12.1", description="Alloy chart version (grafana) installed in 'install' mode."
    )
    prometheus_operator_version: Annotated[ChartVersion, AfterValidator(_pinned_operator)] = Field(
        crds.OPERATOR_VERSION,
        description="Prometheus Operator release whose CRDs the program applies in 'install' mode (the one "
        "kubePrometheusStackChartVersion ships; its CRD checksums are pinned in infra/crds.py).",
    )
    kubernetes_prometheus_storage_gb: Annotated[int, Field(ge=1, le=16384)] = Field(
        50, description="'install' mode: size in GiB of Prometheus' volume claim."
    )
    kubernetes_loki_storage_gb: Annotated[int, Field(ge=1, le=16384)] = Field(
        50, description="'install' mode: size in GiB of Loki's volume claim."
    )
    kubernetes_routing: Literal["ingress", "gateway-api"] = Field(
        "ingress",
        description="How the gateway is exposed: 'ingress' (an Ingress of kubernetesIngressClass) or "
        "'gateway-api' (an HTTPRoute attached to the existing Gateway kubernetesGatewayName, whose listener "
        "holds the certificate).",
    )
    kubernetes_gateway_name: grammar.OptionalDnsSubdomain = Field(
        "", description="'gateway-api' routing: the existing Gateway the HTTPRoute attaches to."
    )
    kubernetes_gateway_namespace: Annotated[str, Field(pattern=r"^$|^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")] = Field(
        "",
        description="'gateway-api' routing: the Gateway's namespace; empty: the stack's namespace. Its listener "
        "must allow routes from the stack's namespace.",
    )
    kubernetes_ingress_source_cidrs: CidrList = Field(
        "",
        description="Networks (CIDR, comma-separated) the gateway also accepts 'http' from: the node addresses "
        "of an ingress or Gateway controller on the host network, whose traffic no namespace selector matches.",
    )
    kubernetes_prometheus_cluster_series: Annotated[int, Field(ge=0, le=100_000_000)] = Field(
        200_000,
        description="'install' mode: active series Prometheus is expected to scrape from the rest of the "
        "cluster (kube-state-metrics, kubelets, other apps); sizes its memory limit (docs/performance.md).",
    )
    kubernetes_prometheus_memory_mb: Annotated[int, Field(ge=0, le=1_048_576), AfterValidator(_zero_or_256)] = Field(
        0,
        description="'install' mode: Prometheus' memory limit in MiB (at least 256); 0: sized from the stack's "
        "series and kubernetesPrometheusClusterSeries (docs/performance.md, Prometheus memory).",
    )


class MonitoringSettings(SettingsGroup):
    prometheus_retention_time: PositiveDuration = Field(
        "30d", description="Prometheus TSDB retention by age; at least sloWindowDays (the SLO is judged over it)."
    )
    prometheus_retention_size: grammar.PrometheusSize = Field(
        "5GB",
        description="Prometheus TSDB retention by size: a whole number and a unit (B, KB, MB, GB, TB, PB or "
        "KiB, MiB, GiB, TiB, PiB; all powers of 1024), such as '5GB'.",
    )
    prometheus_image: ImageRepo = Field("prom/prometheus", description="Prometheus image repository, without tag.")
    prometheus_tag: ImageTag = Field("v3.5.0", description="Prometheus image tag; 'latest' is refused.")
    prometheus_host_port: Port = Field(9090, description="Host port of the Prometheus web UI and API.")
    prometheus_memory_mb: Annotated[int, Field(ge=256, le=65536)] = Field(
        1024,
        description="Memory limit of the Prometheus container in MiB (Kubernetes install mode sizes its own: "
        "kubernetesPrometheusMemoryMb).",
    )
    prometheus_cpu_millicores: Annotated[int, Field(ge=100, le=64000)] = Field(
        1000, description="CPU limit of Prometheus in millicores."
    )
    scrape_interval: PositiveDuration = Field("15s", description="How often Prometheus scrapes every target.")
    evaluation_interval: PositiveDuration = Field("15s", description="How often Prometheus evaluates the alert rules.")
    gateway_scrape_interval: PositiveDuration = Field(
        gateway_cost.DEFAULT_SCRAPE_INTERVAL,
        description="How often Prometheus scrapes the gateway. Each gateway 0.1.0 /metrics call re-verifies the "
        "whole audit chain and blocks the gateway meanwhile (about 15 us per audit entry): scrape it less often "
        "than the rest.",
    )
    gateway_scrape_timeout: PositiveDuration = Field(
        f"{gateway_cost.DEFAULT_SCRAPE_TIMEOUT_S}s",
        description="Scrape timeout of the gateway job (at most gatewayScrapeInterval). 10s covers about 660k "
        "audit entries; GatewayScrapeSlow warns at half of it. The gateway's health-check timeout follows "
        "from it (a /health waits out a running scrape).",
    )
    metrics_auth_image: ImageRepo = Field(
        "caddy", description="Image of the metrics-auth proxy that adds the gateway's X-API-Key to scrapes."
    )
    metrics_auth_tag: ImageTag = Field("2.9.1-alpine", description="Tag of metricsAuthImage (Caddy 2.6 or newer).")
    metrics_auth_port: Port = Field(
        9480,
        description="Port (named 'metrics') the metrics-auth proxy listens on: inside the stack network, or on "
        "127.0.0.1 on bare metal. Never published.",
    )
    alertmanager_image: ImageRepo = Field(
        "prom/alertmanager", description="Alertmanager image repository, without tag."
    )
    alertmanager_tag: ImageTag = Field("v0.28.1", description="Alertmanager image tag; 'latest' is refused.")
    alertmanager_host_port: Port = Field(9093, description="Host port of the Alertmanager web UI and API.")
    alertmanager_memory_mb: Annotated[int, Field(ge=64, le=8192)] = Field(
        256, description="Memory limit of the Alertmanager container in MiB."
    )
    alertmanager_cpu_millicores: Annotated[int, Field(ge=50, le=8000)] = Field(
        250, description="CPU limit of Alertmanager in millicores."
    )
    monitoring_bind_address: IPv4Address | IPv6Address = Field(
        IPv4Address("127.0.0.1"),
        description="Host address the Prometheus and Alertmanager ports bind to (loopback by default).",
    )


RECEIVER_KINDS = ("webhook", "slack", "email", "pagerduty", "heartbeat")


def _receivers(value: str) -> str:
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in RECEIVER_KINDS]
    if unknown:
        raise ValueError(f"unknown receiver {', '.join(map(repr, unknown))}; allowed: {', '.join(RECEIVER_KINDS)}")
    if len(set(names)) != len(names):
        raise ValueError("a receiver is listed twice")
    return ",".join(names)


class AlertingSettings(SettingsGroup):
    alert_receivers: Annotated[str, AfterValidator(_receivers)] = Field(
        "",
        description="Comma-separated receivers Alertmanager notifies: webhook, slack, email, pagerduty "
        "(critical alerts only), heartbeat (the Watchdog). Each needs its secret; empty: alerts are "
        "only visible in the Alertmanager UI.",
    )
    alert_slack_channel: Annotated[str, Field(pattern=r"^$|^[#@][A-Za-z0-9._-]{1,80}$")] = Field(
        "", description="Slack channel (#name) for the slack receiver; empty: the webhook's own channel."
    )
    alert_email_to: grammar.OptionalEmailList = Field(
        "", description="Recipient address of the email receiver; several are separated by commas."
    )
    alert_email_from: grammar.OptionalEmail = Field("", description="Sender address of the email receiver.")
    alert_email_smarthost: grammar.OptionalHostPort = Field(
        "", description="SMTP server host:port of the email receiver (STARTTLS required)."
    )
    alert_email_username: str = Field(
        "", description="SMTP login of the email receiver; its password is the secret alertEmailPassword."
    )
    alert_group_wait: Duration = Field(
        "30s", description="Alertmanager group_wait: delay before a new group's first notification."
    )
    alert_group_interval: PositiveDuration = Field(
        "5m", description="Alertmanager group_interval: delay between updates of a group."
    )
    alert_repeat_interval: PositiveDuration = Field(
        "4h", description="Alertmanager repeat_interval for alerts still firing."
    )
    alert_heartbeat_interval: PositiveDuration = Field(
        "1m", description="How often the always-firing Watchdog is sent to the heartbeat receiver."
    )
    cost_budget_usd_daily: Annotated[float, Field(gt=0, le=1_000_000)] = Field(
        25.0, description="Daily AI cost budget in USD; DailyCostOverBudget fires above it."
    )


class GrafanaSettings(SettingsGroup):
    grafana_image: ImageRepo = Field(
        "grafana/grafana-oss",
        description="Grafana image repository, without tag (grafana/grafana carries the same OSS build).",
    )
    grafana_tag: ImageTag = Field("12.1.0", description="Grafana image tag; 'latest' is refused.")
    grafana_host_port: Port = Field(3000, description="Host port Grafana is published on (Docker target).")
    grafana_bind_address: IPv4Address | IPv6Address = Field(
        IPv4Address("127.0.0.1"),
        description="Host address Grafana's published port binds to. Loopback by default.",
    )
    grafana_memory_mb: Annotated[int, Field(ge=128, le=16384)] = Field(
        512, description="Memory limit of the Grafana container in MiB."
    )
    grafana_cpu_millicores: Annotated[int, Field(ge=100, le=16000)] = Field(
        500, description="CPU limit of Grafana in millicores (1000 = one core)."
    )
    grafana_anonymous_enabled: bool = Field(
        False,
        description="Let visitors view dashboards without logging in (Viewer role, read-only). Refused unless "
        "forced outside development environments or on a non-loopback grafanaBindAddress.",
    )


class OptionalPartsSettings(SettingsGroup):
    swagger_ui_enabled: bool = Field(
        False, description="Serve docs/openapi.yaml with Swagger UI (development environments; see friday:force)."
    )
    proxy_enabled: bool = Field(False, description="Put a TLS reverse proxy in front of the gateway.")
    proxy_kind: Literal["nginx", "caddy"] = Field("nginx", description="Which reverse proxy to run.")


_LOGROTATE_SIZE = r"^[1-9][0-9]*[kMG]$"
# Absolute, normalised, and safe to write unquoted into unit files and logrotate configs.
_ABS_PATH = r"^(/[A-Za-z0-9._-]+)+$"
_UNIX_NAME = r"^[a-z_][a-z0-9_-]{0,30}$"
# ProtectHome= hides these from the gateway's unit: nothing it needs may live there.
_HIDDEN_BY_PROTECT_HOME = ("/home", "/root", "/run/user")
HOST_LOG_DIR = "/var/log/friday"
BACKUP_HOST_DIR = "/var/backups/friday"
BACKUP_TEXTFILE_DIR = "/var/lib/prometheus/node-exporter"


def _outside_home(value: str) -> str:
    for hidden in _HIDDEN_BY_PROTECT_HOME:
        if value == hidden or value.startswith(hidden + "/"):
            raise ValueError(f"{hidden} is hidden from the gateway by ProtectHome=yes; use a path such as /var/lib/...")
    return value


_HostPath = Annotated[str, Field(pattern=_ABS_PATH), AfterValidator(_outside_home)]


def _not_system(example: str) -> Callable[[str], str]:
    """A bare-metal folder the render gives to the service user is no system or temporary folder
    (infra/settings/system_paths.py); `example` is what the refusal suggests instead."""

    def check(value: str) -> str:
        why = system_folder(value, example)
        if why:
            raise ValueError(f"refused as a bare-metal folder: {why}")
        return value

    return check


def _folder(example: str) -> AfterValidator:
    return AfterValidator(_not_system(example))


_HostFolder = Annotated[str, Field(pattern=_ABS_PATH), AfterValidator(_outside_home)]
_DataFolder = Annotated[_HostFolder, _folder(GATEWAY_DATA_DIR)]
_LogFolder = Annotated[_HostFolder, _folder(HOST_LOG_DIR)]
_BackupFolder = Annotated[_HostFolder, _folder(BACKUP_HOST_DIR)]
_TextfileFolder = Annotated[_HostFolder, _folder(BACKUP_TEXTFILE_DIR)]


class LoggingSettings(SettingsGroup):
    loki_image: ImageRepo = Field("grafana/loki", description="Loki image repository, without tag.")
    loki_tag: ImageTag = Field(
        "3.7.8", description="Loki image tag (3.x; the rendered config uses the tsdb index, v13)."
    )
    loki_retention_period: grammar.WholeDays = Field(
        "30d",
        description="How long Loki keeps logs before the compactor deletes them: whole days, as hours, days "
        "or weeks ('720h', '30d', '4w', '1w3d'); at least 24h.",
    )
    loki_host_port: Port = Field(
        LOKI_HTTP_PORT,
        description="Loopback port on the Docker host where Loki is published (logcli, a host-side Alloy).",
    )
    loki_memory_mb: Annotated[int, Field(ge=128, le=65536)] = Field(512, description="Memory limit of Loki in MiB.")
    loki_cpu_millicores: Annotated[int, Field(ge=100, le=64000)] = Field(
        500, description="CPU limit of Loki in millicores."
    )
    alloy_image: ImageRepo = Field("grafana/alloy", description="Grafana Alloy image repository, without tag.")
    alloy_tag: ImageTag = Field("v1.19.2", description="Grafana Alloy image tag (v1.x).")
    alloy_memory_mb: Annotated[int, Field(ge=64, le=16384)] = Field(256, description="Memory limit of Alloy in MiB.")
    alloy_cpu_millicores: Annotated[int, Field(ge=50, le=16000)] = Field(
        250, description="CPU limit of Alloy in millicores."
    )
    docker_socket_path: Annotated[str, Field(pattern=_ABS_PATH)] = Field(
        "/var/run/docker.sock",
        description="Docker API socket on the host; mounted read-only into Alloy for container discovery and logs.",
    )
    docker_socket_gid: NonRootId | None = Field(
        None,
        description="Group id owning the Docker socket on the Docker host; Alloy runs as its non-root user with "
        "this extra group. Unset: read from dockerSocketPath at deploy time on the deploying machine (`pulumi up`, "
        "`check --deployable`; `render` and `check` leave it out, so their output is the same on any machine); "
        "set it when the Docker host is another machine (`stat -c %g /var/run/docker.sock` there).",
    )


class HostSettings(SettingsGroup):
    host_user: Annotated[str, Field(pattern=_UNIX_NAME)] = Field(
        "friday", description="Bare metal: system user (and group) the gateway runs as."
    )
    host_gateway_exec: _HostPath = Field(
        "/usr/bin/node", description="Bare metal: absolute path of the program systemd starts (Node.js)."
    )
    host_gateway_script: _HostPath = Field(
        "/opt/secureyeoman/packages/core/dist/cli.js",
        description="Bare metal: the gateway's CLI entry point passed to hostGatewayExec.",
    )
    host_data_dir: _DataFolder = Field(
        GATEWAY_DATA_DIR,
        description="Bare metal: the gateway's core.dataDir (SQLite databases, local disk only); the default is "
        "the container's data path, which the bare-metal backup unit also reads.",
    )
    host_log_dir: _LogFolder = Field(
        HOST_LOG_DIR, description="Bare metal: directory of gateway.log (hostLogTarget = file)."
    )
    host_log_target: Literal["file", "journal"] = Field(
        "file",
        description="Bare metal: 'file' appends stdout to hostLogDir/gateway.log rotated by logrotate "
        "(copytruncate, may lose a few lines per rotation); 'journal' sends it to journald (no loss).",
    )
    host_log_rotate_keep: Annotated[int, Field(ge=1, le=366)] = Field(
        14, description="Bare metal: rotated gateway.log files kept (one per day, or per hostLogRotateMaxSize)."
    )
    host_log_rotate_max_size: Annotated[str, Field(pattern=_LOGROTATE_SIZE)] = Field(
        "100M", description="Bare metal: rotate gateway.log early when it is bigger than this (k, M, G)."
    )
    host_journal_max_use: Annotated[str, Field(pattern=_LOGROTATE_SIZE)] = Field(
        "1G", description="Bare metal, hostLogTarget = journal: journald's SystemMaxUse (k, M, G)."
    )
    host_loki_url: grammar.HttpBaseUrl = Field(
        f"http://127.0.0.1:{LOKI_HTTP_PORT}",
        description="Bare metal: base URL of the Loki the host's Alloy pushes to (scheme, host, port; no path).",
    )


def _divides_a_day(hours: int) -> int:
    if hours < 1 or 24 % hours:
        raise ValueError("must be one of 1, 2, 3, 4, 6, 8, 12, 24 (a divisor of 24)")
    return hours


class BackupSettings(SettingsGroup):
    # An int checked by value, not a Literal: the Pulumi engine hands every value over as a string.
    backup_interval_hours: Annotated[int, AfterValidator(_divides_a_day)] = Field(
        6,
        description="Hours between backups of the gateway databases (a divisor of 24, so every "
        "scheduler - Docker loop, CronJob, systemd timer - can express it).",
    )
    backup_retention_count: Annotated[int, Field(ge=1, le=1000)] = Field(
        28, description="Complete backups kept; older ones are deleted after each new complete backup."
    )
    backup_stale_after_hours: Annotated[int, Field(ge=2, le=720)] = Field(
        13,
        description="BackupStale fires when the newest complete backup is older than this many hours; "
        "must exceed backupIntervalHours.",
    )
    backup_host_dir: _BackupFolder = Field(
        BACKUP_HOST_DIR,
        description="Bare metal: absolute folder the systemd timer writes backups to (Docker and "
        "Kubernetes use a volume).",
    )
    backup_textfile_dir: _TextfileFolder = Field(
        BACKUP_TEXTFILE_DIR,
        description="Bare metal: node-exporter textfile-collector folder the backup metrics are written to.",
    )
    backup_image: ImageRepo = Field(
        "python", description="Image of the backup container and CronJob (a stock Python slim image)."
    )
    backup_tag: ImageTag = Field("3.12.8-slim-bookworm", description="Tag of backupImage (Python 3.11 or newer).")
    backup_metrics_port: Port = Field(
        9465, description="Port of the backup container's /metrics and /health (internal, scraped by Prometheus)."
    )

    @model_validator(mode="after")
    def _stale_after_interval(self) -> BackupSettings:
        if self.backup_stale_after_hours <= self.backup_interval_hours:
            raise ValueError(
                f"backupStaleAfterHours = {self.backup_stale_after_hours} must exceed backupIntervalHours = "
                f"{self.backup_interval_hours}, or BackupStale fires between two healthy backups"
            )
        return self


_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_OBJECT_PATH = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")


def _bucket(value: str) -> str:
    if value and (not _BUCKET.match(value) or ".." in value):
        raise ValueError(
            "must be an S3 bucket name: 3 to 63 lower-case letters, digits, '.' and '-', starting and ending "
            "with a letter or digit (such as 'friday-backups')"
        )
    return value


def _object_path(value: str) -> str:
    if value and (not _OBJECT_PATH.match(value) or any(part in (".", "..") for part in value.split("/"))):
        raise ValueError(
            "must be a folder in the bucket: parts of letters, digits, '.', '_' and '-' joined by '/', no leading "
            "or trailing '/' (such as 'friday/prod')"
        )
    return value


class OffsiteBackupSettings(SettingsGroup):
    """Off-host copies of every backup with restic to an S3-compatible object store (docs/backups.md)."""

    backup_offsite_enabled: bool = Field(
        False,
        description="Send every verified backup to an S3-compatible object store with restic (encrypted, "
        "deduplicated). Needs backupOffsiteEndpoint, backupOffsiteBucket, the secrets backupOffsiteAccessKeyId, "
        "backupOffsiteSecretAccessKey, backupOffsiteResticPassword, and a backup image with restic.",
    )
    backup_offsite_endpoint: grammar.OptionalHttpsBaseUrl = Field(
        "", description="HTTPS base URL of the S3 API (scheme, host, port; no path), such as 'https://s3.example.org'."
    )
    backup_offsite_bucket: Annotated[str, AfterValidator(_bucket)] = Field(
        "", description="Bucket of the restic repository (created by the first run when missing)."
    )
    backup_offsite_path: Annotated[str, AfterValidator(_object_path)] = Field(
        "", description="Folder of the restic repository in the bucket; empty: 'friday/<stack>'."
    )
    backup_offsite_keep_last: Annotated[int, Field(ge=0, le=10000)] = Field(
        4, description="Remote retention (restic forget --keep-last): the newest snapshots kept whatever their age."
    )
    backup_offsite_keep_daily: Annotated[int, Field(ge=0, le=10000)] = Field(
        7, description="Remote retention (restic --keep-daily): one snapshot per day for this many days."
    )
    backup_offsite_keep_weekly: Annotated[int, Field(ge=0, le=10000)] = Field(
        4, description="Remote retention (restic --keep-weekly): one snapshot per week for this many weeks."
    )
    backup_offsite_keep_monthly: Annotated[int, Field(ge=0, le=10000)] = Field(
        6, description="Remote retention (restic --keep-monthly): one snapshot per month for this many months."
    )
    backup_offsite_stale_after_hours: Annotated[int, Field(ge=0, le=720)] = Field(
        0,
        description="BackupOffsiteStale fires when the newest off-host copy is older than this many hours; "
        "0: twice backupIntervalHours plus one (13 at the default 6). Must exceed backupIntervalHours.",
    )


class SwaggerUiSettings(SettingsGroup):
    swagger_ui_image: ImageRepo = Field("swaggerapi/swagger-ui", description="Swagger UI image repository.")
    swagger_ui_tag: ImageTag = Field("v5.20.7", description="Swagger UI image tag (a release tag such as 'v5.20.7').")
    swagger_ui_host_port: Port = Field(
        18790, description="Host port of Swagger UI; it binds 127.0.0.1 only (an API explorer is never public)."
    )


class ProxySettings(SettingsGroup):
    proxy_server_name: grammar.ServerName = Field(
        "localhost", description="Host name the reverse proxy answers to; its TLS certificate must name it."
    )
    proxy_tls_source: Literal["secrets", "self-signed"] = Field(
        "secrets",
        description="Where the proxy's certificate comes from: the secrets proxyTlsCert/proxyTlsKey (PEM), or "
        "'self-signed': generated at deploy time (clients warn; refused unless forced outside development "
        "environments).",
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
    proxy_login_rate_limit_per_minute: Annotated[int, Field(ge=0, le=60)] = Field(
        1,
        description="Login attempts (POST /api/v1/auth/login) per minute per client address that the proxy "
        "lets through: nginx limit_req on Docker, ingress-nginx limit-rpm on a login-only Ingress on Kubernetes; "
        "0 turns it off. The gateway counts every login of every client as the proxy's (5 per 15 minutes): "
        "this keeps one client from using them all at once (docs/deployment.md). Caddy has no rate limit: with "
        "proxyKind caddy this must be 0; so must it on Kubernetes with another Ingress class than nginx or with "
        "kubernetesRouting gateway-api (configure it on that controller).",
    )
    proxy_login_rate_limit_burst: Annotated[int, Field(ge=0, le=100)] = Field(
        2, description="Login attempts above proxyLoginRateLimitPerMinute a client may send at once before 429."
    )
    proxy_source_allowlist: Annotated[str, AfterValidator(_source_allowlist)] = Field(
        "",
        description="Client addresses or networks (comma-separated, e.g. 203.0.113.0/24,2001:db8::/32) the proxy "
        "serves (nginx allow/deny, Caddy remote_ip, ingress-nginx whitelist-source-range); others get 403. "
        "Empty: every client. The gateway cannot tell clients apart behind a proxy: this is its 'private "
        "clients only' guard. On Kubernetes only with kubernetesIngressClass nginx (refused otherwise: configure it on "
        "the controller).",
    )
    proxy_nginx_image: ImageRepo = Field(
        "nginxinc/nginx-unprivileged", description="nginx image for proxyKind nginx (runs as uid 101 on port 8080)."
    )
    proxy_nginx_tag: ImageTag = Field("1.27.4-alpine", description="Tag of proxyNginxImage.")
    proxy_caddy_image: ImageRepo = Field("caddy", description="Caddy image for proxyKind caddy.")
    proxy_caddy_tag: ImageTag = Field("2.9.1-alpine", description="Tag of proxyCaddyImage.")


def _regexp(value: str) -> str:
    # Go's RE2 (blackbox) and Python's re agree on the simple patterns a body check needs.
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from None
    return value


class ProbeSettings(SettingsGroup):
    """Outside-in probes: Prometheus' blackbox exporter as a stack service (infra/stack/blackbox.py)."""

    blackbox_image: ImageRepo = Field(
        "prom/blackbox-exporter", description="Blackbox exporter image repository, without tag."
    )
    blackbox_tag: ImageTag = Field("v0.27.0", description="Blackbox exporter image tag; 'latest' is refused.")
    blackbox_memory_mb: Annotated[int, Field(ge=32, le=4096)] = Field(
        64, description="Memory limit of the blackbox exporter container in MiB."
    )
    blackbox_cpu_millicores: Annotated[int, Field(ge=50, le=4000)] = Field(
        200, description="CPU limit of the blackbox exporter in millicores."
    )
    probe_interval: PositiveDuration = Field(
        "30s", description="How often each probe runs (the scrape interval of the probe jobs)."
    )
    probe_timeout_seconds: Annotated[int, Field(ge=1, le=60)] = Field(
        10, description="Seconds one probe may take before it counts as failed; less than probeInterval."
    )
    probe_health_body_regexp: Annotated[str, AfterValidator(_regexp)] = Field(
        '"status"\\s*:\\s*"ok"',
        description="Regular expression the gateway's /health body must match (its status code alone proves "
        "little: the 0.1.0 /health is constant).",
    )
    probe_public_url: grammar.OptionalHttpsBaseUrl = Field(
        "",
        description="Base URL clients use (https://host[:port], no path) for the public HTTPS probe; empty: "
        "the proxy inside the stack, with proxyServerName as TLS server name and Host.",
    )
    cert_expiry_warning_days: Annotated[int, Field(ge=2, le=365)] = Field(
        21, description="CertificateExpiring warns when the proxy's certificate has fewer days left than this."
    )
    cert_expiry_critical_days: Annotated[int, Field(ge=1, le=364)] = Field(
        7, description="CertificateExpiring turns critical when fewer days than this are left."
    )

    @model_validator(mode="after")
    def _tiers(self) -> ProbeSettings:
        if self.cert_expiry_critical_days >= self.cert_expiry_warning_days:
            raise ValueError(
                f"certExpiryCriticalDays = {self.cert_expiry_critical_days} must be less than "
                f"certExpiryWarningDays = {self.cert_expiry_warning_days} (the critical tier comes later)"
            )
        return self


class SloSettings(SettingsGroup):
    """The gateway's availability SLO (infra/alerting/slo.py)."""

    slo_availability_objective: Annotated[float, Field(ge=90, le=99.99)] = Field(
        99.5,
        description="Availability objective in percent: the share of probes (and gateway scrapes) that must "
        "succeed over sloWindowDays; 100 minus it is the error budget.",
    )
    slo_window_days: Annotated[int, Field(ge=7, le=90)] = Field(
        28, description="Days the availability SLO is judged over (the error budget's window)."
    )
