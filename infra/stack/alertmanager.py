"""The Alertmanager service; its configuration is infra/monitoring/alertmanager.py."""

from __future__ import annotations

from infra.monitoring import alertmanager as config
from infra.monitoring import endpoints
from infra.settings import Settings, SettingsError
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

NAME = endpoints.ALERTMANAGER
DATA_VOLUME = "alertmanager-data"
HTTP = "http"  # the name of its port (API, UI, /metrics)


def build(settings: Settings) -> Part:
    problems = config.receiver_problems(settings)
    if problems:
        raise SettingsError(settings.stack, problems)
    on = config.enabled(settings)
    templated = tuple(SecretRef(config.SECRET_OF[r]) for r in config.TEMPLATED if r in on)
    secret_files = tuple(
        SecretFile(path, SecretRef(config.SECRET_OF[r])) for r, path in config.SECRET_FILE_OF.items() if r in on
    )
    nobody = endpoints.NOBODY
    volume = Volume(DATA_VOLUME, "Alertmanager silences and notification log", nobody, nobody, size_gb=1)
    binding = HostBinding(str(settings.monitoring_bind_address), settings.alertmanager_host_port)
    service = Service(
        name=NAME,
        image=Image(settings.alertmanager_image, settings.alertmanager_tag),
        uid=nobody,
        gid=nobody,
        # Silences and the notification log on its volume; one instance (no gossip cluster).
        workload=Workload.SINGLE_WRITER,
        resources=resources(settings.alertmanager_memory_mb, settings.alertmanager_cpu_millicores),
        health=Health(HttpCheck(HTTP, endpoints.HEALTH_PATH, WGET), interval_s=15, start_period_s=20),
        command=config.command(),
        ports=(Port(HTTP, endpoints.ALERTMANAGER_PORT, Reach.OPERATOR, binding),),
        metrics=Metrics(HTTP),
        mounts=(Mount(DATA_VOLUME, endpoints.ALERTMANAGER_DATA_DIR),),
        config_dir=endpoints.ALERTMANAGER_CONFIG_DIR,
        files=(ConfigFile(config.CONFIG_PATH, config.config_text(settings), secrets=templated),),
        secret_files=secret_files,
    )
    return Part(services=(service,), volumes=(volume,))
