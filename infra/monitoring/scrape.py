"""What Prometheus scrapes: a registry of scrape targets, one entry per monitored service.

A service that exposes metrics joins by adding a function `settings -> ScrapeTarget | None` to
SCRAPE_TARGETS (in its own module or here); the Prometheus module renders whatever is listed
and is not edited. Addresses are `service:port` on the stack's network (the service name is
its network alias on Docker and its Service name on Kubernetes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from infra.monitoring import endpoints
from infra.settings import Settings
from infra.stack import alloy, backup, gateway, grafana, loki, metrics_auth

METRICS_TOKEN = metrics_auth.METRICS_SECRET


@dataclass(frozen=True)
class ScrapeTarget:
    job: str  # the service name; alerts and dashboards select on job
    port: int
    metrics_path: str = "/metrics"
    scheme: str = "http"
    labels: dict[str, str] = field(default_factory=dict)
    # The service Prometheus connects to, when it is not the job's own (the metrics-auth proxy).
    via: str | None = None
    # Job-level overrides of the global scrape_interval / scrape_timeout.
    interval: str | None = None
    timeout: str | None = None

    @property
    def address(self) -> str:
        return f"{self.via or self.job}:{self.port}"


def gateway_target(settings: Settings) -> ScrapeTarget:
    """The gateway job: its own interval and timeout (each /metrics call costs the gateway about
    15 us per audit entry, docs/gateway.md). With a scrape credential (gateway 0.1.0) Prometheus
    scrapes the metrics-auth proxy, which adds the `X-API-Key` header; `instance` still names the
    gateway, so alerts and dashboards read the same either way. Without one (a later gateway
    whose /metrics is public) it scrapes the gateway directly."""
    interval, timeout = settings.gateway_scrape_interval, settings.gateway_scrape_timeout
    if not metrics_auth.enabled(settings):
        return ScrapeTarget(
            gateway.NAME, settings.gateway_port, gateway.METRICS_PATH, interval=interval, timeout=timeout
        )
    return ScrapeTarget(
        gateway.NAME,
        settings.metrics_auth_port,
        gateway.METRICS_PATH,
        labels={"instance": f"{gateway.NAME}:{settings.gateway_port}"},
        via=metrics_auth.NAME,
        interval=interval,
        timeout=timeout,
    )


def prometheus_target(settings: Settings) -> ScrapeTarget:
    return ScrapeTarget(endpoints.PROMETHEUS, endpoints.PROMETHEUS_PORT)


def alertmanager_target(settings: Settings) -> ScrapeTarget:
    return ScrapeTarget(endpoints.ALERTMANAGER, endpoints.ALERTMANAGER_PORT)


def grafana_target(settings: Settings) -> ScrapeTarget:
    # Grafana serves its own /metrics on its HTTP port (enabled by default, no credential).
    return ScrapeTarget(grafana.NAME, grafana.HTTP_PORT)


def loki_target(settings: Settings) -> ScrapeTarget:
    return ScrapeTarget(loki.NAME, loki.METRICS_PORT, loki.METRICS_PATH)


def alloy_target(settings: Settings) -> ScrapeTarget | None:
    # Alloy runs only on the Docker target (it reads the Docker socket).
    return ScrapeTarget(alloy.NAME, alloy.METRICS_PORT, alloy.METRICS_PATH) if alloy.runs_on(settings) else None


def backup_target(settings: Settings) -> ScrapeTarget:
    # The backup service's /metrics (infra/backup/service.py): BackupStale and the stack
    # dashboard's backup panels read it; no credential (internal port, no secrets in it).
    return ScrapeTarget(backup.NAME, settings.backup_metrics_port, backup.METRICS_PATH)


TargetSource = Callable[[Settings], ScrapeTarget | None]

# A later service appends its source here.
SCRAPE_TARGETS: tuple[TargetSource, ...] = (
    gateway_target,
    prometheus_target,
    alertmanager_target,
    grafana_target,
    loki_target,
    alloy_target,
    backup_target,
)


def targets(settings: Settings) -> tuple[ScrapeTarget, ...]:
    found = tuple(t for t in (source(settings) for source in SCRAPE_TARGETS) if t is not None)
    jobs = [t.job for t in found]
    if len(set(jobs)) != len(jobs):
        raise AssertionError(f"two scrape targets share a job name: {jobs}")
    return found
