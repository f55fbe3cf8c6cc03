"""The Prometheus service; its configuration is infra/monitoring/prometheus_config.py.

Prometheus is built after every other service: it scrapes whatever metrics the services of the
stack declare (`Service.metrics`, on one of their named ports), itself included. A service that
exposes metrics joins by declaring them; nothing here changes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from infra.monitoring import endpoints, remote_write, web_auth
from infra.monitoring import prometheus_config as config
from infra.monitoring.scrape import ScrapeTarget
from infra.settings import Settings
from infra.stack import blackbox
from infra.stack.parts import Part
from infra.stack.spec import (
    WGET,
    ConfigFile,
    Health,
    HostBinding,
    HttpCheck,
    Image,
    Metrics,
    Mount,
    Port,
    Reach,
    SecretFile,
    SecretRef,
    Service,
    Volume,
    Workload,
    resources,
)

NAME = endpoints.PROMETHEUS
DATA_VOLUME = "prometheus-data"
HTTP = "http"  # the name of its port (API, UI, its own /metrics)


def scrape_target(service: Service) -> ScrapeTarget | None:
    """The scrape job of a service that declares metrics: its name, its named port's number."""
    if service.metrics is None:
        return None
    metrics = service.metrics
    if metrics.credential is not None:
        return None  # scraped through the metrics-auth proxy, which declares this job
    port = service.port(metrics.port)
    return ScrapeTarget(
        job=metrics.job or service.name,
        address=f"{service.name}:{port.number}",
        metrics_path=metrics.path,
        scheme=port.scheme,
        labels={"instance": metrics.instance} if metrics.instance else {},
        interval=metrics.interval,
        timeout=metrics.timeout,
        basic_auth=web_auth.basic_auth(config.ALERTMANAGER_PASSWORD_FILE) if metrics.web_auth else None,
    )


def scrape_targets(services: Sequence[Service]) -> tuple[ScrapeTarget, ...]:
    found = tuple(t for t in map(scrape_target, services) if t is not None)
    jobs = [t.job for t in found]
    if len(set(jobs)) != len(jobs):
        raise AssertionError(f"two scrape targets share a job name: {jobs}")
    return found


def build(settings: Settings, others: Sequence[Service]) -> Part:
    base = endpoints.PROMETHEUS_CONFIG_DIR
    nobody = endpoints.NOBODY
    volume = Volume(DATA_VOLUME, "Prometheus TSDB", nobody, nobody)
    binding = HostBinding(str(settings.monitoring_bind_address), settings.prometheus_host_port)
    service = Service(
        name=NAME,
        image=Image(settings.prometheus_image, settings.prometheus_tag),
        uid=nobody,
        gid=nobody,
        # One TSDB per volume.
        workload=Workload.SINGLE_WRITER,
        resources=resources(settings.prometheus_memory_mb, settings.prometheus_cpu_millicores),
        health=Health(HttpCheck(HTTP, endpoints.HEALTH_PATH, WGET), interval_s=15, start_period_s=30),
        command=config.command(settings),
        ports=(Port(HTTP, endpoints.PROMETHEUS_PORT, Reach.OPERATOR, binding),),
        metrics=Metrics(HTTP),
        mounts=(Mount(DATA_VOLUME, endpoints.PROMETHEUS_DATA_DIR),),
        config_dir=base,
        # Time to write the head block out cleanly.
        stop_grace_s=60,
    )
    # Every service's own metrics, then the blackbox exporter's probes (one job each).
    targets = (*scrape_targets((*others, service)), *blackbox.probe_targets(settings))
    # Prometheus holds no scrape credential (the gateway's key lives in the metrics-auth proxy): only
    # Alertmanager's web password (posting alerts, scraping Alertmanager) and the remote-write
    # credentials of targets with auth, one file each, readable by Prometheus' user only.
    service = dataclasses.replace(
        service,
        files=tuple(ConfigFile(f"{base}/{rel}", text) for rel, text in config.config_files(settings, targets).items()),
        secret_files=(
            SecretFile(config.ALERTMANAGER_PASSWORD_FILE, SecretRef(web_auth.PASSWORD_KEY)),
            *(
                SecretFile(remote_write.credential_path(t), SecretRef(str(t.credential_key)))
                for t in remote_write.with_credentials(settings)
            ),
        ),
    )
    return Part(services=(service,), volumes=(volume,))
