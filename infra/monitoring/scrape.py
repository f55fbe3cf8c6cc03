"""What Prometheus scrapes: a registry of scrape targets, one entry per monitored service.

A service that exposes metrics joins by adding a function `settings -> ScrapeTarget | None` to
SCRAPE_TARGETS (in its own module or here); the Prometheus module renders whatever is listed
and is not edited. Addresses are `service:port` on the stack's network (the service name is
its network alias on Docker and its Service name on Kubernetes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from infra.monitoring import blackbox, endpoints
from infra.monitoring.blackbox import Probe
from infra.settings import Settings
from infra.stack import alloy, backup, gateway, grafana, loki
from infra.stack.spec import SecretRef

METRICS_TOKEN = "metricsToken"


@dataclass(frozen=True)
class ScrapeTarget:
    job: str  # the service name; alerts and dashboards select on job
    port: int
    metrics_path: str = "/metrics"
    scheme: str = "http"
    # Sent as `Authorization: Bearer <secret>`; Prometheus reads it from a secret file.
    credential: SecretRef | None = None
    labels: dict[str, str] = field(default_factory=dict)
    # A blackbox probe: Prometheus scrapes `job:port` + metrics_path with ?module=&target=; the
    # static target is the probe's target, moved into the `target` parameter by relabelling.
    probe: Probe | None = None
    # Per-job interval and timeout where they differ from the global scrape settings.
    interval: str | None = None
    timeout: str | None = None

    @property
    def address(self) -> str:
        return f"{self.job}:{self.port}" if self.probe is None else f"{blackbox.NAME}:{self.port}"


def gateway_target(settings: Settings) -> ScrapeTarget:
    # The 0.1.0 gateway answers 401 without an admin credential; later versions serve
    # /metrics publicly. The credential is sent when the stack sets the metricsToken secret.
    credential = SecretRef(METRICS_TOKEN) if METRICS_TOKEN in settings.secrets_set else None
    return ScrapeTarget(gateway.NAME, settings.gateway_port, gateway.METRICS_PATH, credential=credential)


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


def blackbox_target(settings: Settings) -> ScrapeTarget:
    # The exporter's own metrics (probe durations, config reloads), not a probe.
    return ScrapeTarget(blackbox.NAME, blackbox.PORT, blackbox.METRICS_PATH)


def probe_targets(settings: Settings) -> tuple[ScrapeTarget, ...]:
    """One job per probe (infra/monitoring/blackbox.py), at the probe interval."""
    return tuple(
        ScrapeTarget(
            probe.job,
            blackbox.PORT,
            blackbox.PROBE_PATH,
            labels=probe.labels,
            probe=probe,
            interval=settings.probe_interval,
            # One second more than the module's own timeout, so the exporter reports the failure.
            timeout=f"{settings.probe_timeout_seconds + 1}s",
        )
        for probe in blackbox.probes(settings)
    )


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
    blackbox_target,
)
# Sources of several targets each (the probes).
MULTI_TARGETS: tuple[Callable[[Settings], tuple[ScrapeTarget, ...]], ...] = (probe_targets,)


def targets(settings: Settings) -> tuple[ScrapeTarget, ...]:
    found = tuple(t for t in (source(settings) for source in SCRAPE_TARGETS) if t is not None)
    found += tuple(t for source in MULTI_TARGETS for t in source(settings))
    jobs = [t.job for t in found]
    if len(set(jobs)) != len(jobs):
        raise AssertionError(f"two scrape targets share a job name: {jobs}")
    return found
