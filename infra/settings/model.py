"""`Settings`: everything a stack can set, validated in one place for every consumer."""

from __future__ import annotations

from pydantic import PrivateAttr, model_validator

from infra.settings import routing
from infra.settings.base import duration_seconds
from infra.settings.groups import (
    AlertingSettings,
    BackupSettings,
    CoreSettings,
    DockerSettings,
    GatewaySettings,
    GrafanaSettings,
    HostSettings,
    KubernetesSettings,
    LoggingSettings,
    MonitoringSettings,
    OffsiteBackupSettings,
    OptionalPartsSettings,
    ProbeSettings,
    ProxySettings,
    SloSettings,
    SwaggerUiSettings,
)
from infra.settings.offsite import offsite_problem
from infra.settings.remote_write import RemoteWriteSettings
from infra.settings.remote_write import check as remote_write_check

# Environment names that declare a development stack. Every other name, known or not, gets every
# production safeguard (see infra/settings/safeguards.py and docs/deployment.md#safeguards).
DEVELOPMENT_ENVIRONMENTS = ("dev", "local")
# Environment names the gateway is told are staging (friday:gatewayEnvironment overrides).
STAGING_ENVIRONMENTS = {"staging": "staging"}


# pydantic lists inherited fields from the last base to the first: this order puts
# core first in the generated Pulumi.yaml and README reference.
class Settings(
    SloSettings,
    ProbeSettings,
    ProxySettings,
    SwaggerUiSettings,
    HostSettings,
    LoggingSettings,
    OffsiteBackupSettings,
    BackupSettings,
    OptionalPartsSettings,
    GrafanaSettings,
    AlertingSettings,
    RemoteWriteSettings,
    MonitoringSettings,
    KubernetesSettings,
    DockerSettings,
    GatewaySettings,
    CoreSettings,
):
    """All settings of one stack. Build it with `infra.settings.load`, not directly."""

    _stack: str = PrivateAttr("")
    _secrets_set: frozenset[str] = PrivateAttr(frozenset())

    @property
    def stack(self) -> str:
        return self._stack

    @property
    def secrets_set(self) -> frozenset[str]:
        """Secret keys the stack sets (their values are never held here)."""
        return self._secrets_set

    @property
    def is_development(self) -> bool:
        """Declared a development stack by its environment name; anything else is treated as production."""
        return self.environment in DEVELOPMENT_ENVIRONMENTS

    @property
    def gateway_environment_value(self) -> str:
        """What the gateway is told (SECUREYEOMAN_ENV): the setting, else derived from the environment name
        (gateway 0.1.0 accepts only development, staging or production; docs/gateway.md)."""
        if self.gateway_environment is not None:
            return self.gateway_environment
        if self.is_development:
            return "development"
        return STAGING_ENVIRONMENTS.get(self.environment, "production")

    @property
    def is_prod(self) -> bool:
        """Gets every production safeguard: any environment not declared a development one (safe by default)."""
        return not self.is_development

    @property
    def forced(self) -> frozenset[str]:
        """Safeguards this stack overrides (friday:force)."""
        return frozenset(n.strip() for n in self.force.split(",") if n.strip())

    @model_validator(mode="after")
    def _cross_checks(self) -> Settings:
        if self.proxy_enabled:
            _check_proxy(self)
        if duration_seconds(self.gateway_scrape_timeout) > duration_seconds(self.gateway_scrape_interval):
            raise ValueError(
                f"friday:gatewayScrapeTimeout = {self.gateway_scrape_timeout!r} is longer than "
                f"friday:gatewayScrapeInterval = {self.gateway_scrape_interval!r}; Prometheus refuses a scrape "
                "timeout above the interval: lengthen the interval or shorten the timeout"
            )
        _check_probes_and_slo(self)
        problems = remote_write_check(
            self.remote_write, self.is_development, self.target, self.kubernetes_monitoring_mode
        )
        if problems:
            raise ValueError("; ".join(problems))
        offsite_problem(self)
        if self.target == "kubernetes":
            _check_kubernetes(self)
        data, logs = self.host_data_dir + "/", self.host_log_dir + "/"
        if data.startswith(logs) or logs.startswith(data):
            raise ValueError(
                f"friday:hostDataDir = {self.host_data_dir!r} and friday:hostLogDir = {self.host_log_dir!r} "
                "must not contain each other (logrotate would rotate the databases' folder, or the logs "
                "would fill the data disk)"
            )
        return self


def _check_proxy(settings: Settings) -> None:
    if settings.proxy_kind == "caddy" and settings.proxy_rate_limit_per_second > 0:
        raise ValueError(
            f"proxyKind = 'caddy' with proxyRateLimitPerSecond = {settings.proxy_rate_limit_per_second}: "
            "Caddy 2 has no built-in rate limiting (it needs a custom build with a plugin); set "
            "proxyRateLimitPerSecond = 0 to accept no proxy rate limit, or use proxyKind = 'nginx'"
        )
    if settings.proxy_kind == "caddy" and settings.proxy_login_rate_limit_per_minute > 0:
        raise ValueError(
            f"proxyKind = 'caddy' with proxyLoginRateLimitPerMinute = {settings.proxy_login_rate_limit_per_minute}: "
            "Caddy 2 has no built-in rate limiting, so it cannot limit logins per client; set "
            "proxyLoginRateLimitPerMinute = 0 (and restrict clients with proxySourceAllowlist), or use "
            "proxyKind = 'nginx'"
        )
    if settings.proxy_http_host_port == settings.proxy_https_host_port:
        raise ValueError(
            f"proxyHttpHostPort and proxyHttpsHostPort are both {settings.proxy_http_host_port}; "
            "give them different ports"
        )


def _check_probes_and_slo(settings: Settings) -> None:
    if settings.probe_timeout_seconds >= duration_seconds(settings.probe_interval):
        raise ValueError(
            f"probeTimeoutSeconds = {settings.probe_timeout_seconds} must be less than probeInterval = "
            f"{settings.probe_interval!r} (Prometheus refuses a scrape timeout longer than its interval)"
        )
    if duration_seconds(settings.prometheus_retention_time) < settings.slo_window_days * 86400:
        raise ValueError(
            f"prometheusRetentionTime = {settings.prometheus_retention_time!r} is shorter than sloWindowDays = "
            f"{settings.slo_window_days}: the remaining error budget would be judged on less than the SLO window; "
            f"keep at least {settings.slo_window_days}d"
        )


def _check_kubernetes(settings: Settings) -> None:
    """What the Kubernetes target cannot deploy without: a host for the Ingress and its certificate."""
    if not settings.kubernetes_ingress_host:
        raise ValueError(
            "target = 'kubernetes' needs friday:kubernetesIngressHost, the host name the gateway's Ingress "
            "serves (such as 'friday.example.org')"
        )
    if settings.proxy_enabled:
        raise ValueError(
            "proxyEnabled = true is for the docker target: on 'kubernetes' the Ingress is the reverse proxy "
            "(kubernetesIngressHost, kubernetesIngressClass); set proxyEnabled = false"
        )
    if settings.kubernetes_routing == "gateway-api":
        routing.check_gateway_api(
            settings.kubernetes_gateway_name, settings.kubernetes_tls_secret, settings.kubernetes_cert_issuer
        )
    elif bool(settings.kubernetes_tls_secret) == bool(settings.kubernetes_cert_issuer):
        raise ValueError(
            f"target = 'kubernetes' needs exactly one of friday:kubernetesTlsSecret (an existing TLS Secret, now "
            f"{settings.kubernetes_tls_secret!r}) and friday:kubernetesCertIssuer (a cert-manager ClusterIssuer, "
            f"now {settings.kubernetes_cert_issuer!r}) for the Ingress certificate"
        )
    routing.check_proxy_layer(
        settings.kubernetes_routing,
        settings.kubernetes_ingress_class,
        settings.proxy_login_rate_limit_per_minute,
        settings.proxy_source_allowlist,
    )
