"""The Alertmanager service; its configuration is infra/monitoring/alertmanager.py."""

from __future__ import annotations

from infra.monitoring import alertmanager as config
from infra.monitoring import endpoints, web_auth
from infra.settings import Settings, SettingsError
from infra.stack.parts import Part
from infra.stack.spec import (
    CommandCheck,
    ConfigFile,
    Health,
    HostBinding,
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
WEB_CONFIG_PATH = f"{endpoints.ALERTMANAGER_CONFIG_DIR}/{web_auth.WEB_CONFIG_NAME}"
# Its own password, for its healthcheck only (every path wants the credential).
PASSWORD_PATH = f"{endpoints.ALERTMANAGER_CONFIG_DIR}/{web_auth.PASSWORD_FILE_NAME}"


def health_command() -> tuple[str, ...]:
    """wget (busybox and GNU) with the credential in the URL, read from the password file at each
    check, so it is never in the container's settings (letters and digits only: URL-safe)."""
    url = (
        f"http://{web_auth.USER}:$(cat {PASSWORD_PATH})@127.0.0.1:{endpoints.ALERTMANAGER_PORT}{endpoints.HEALTH_PATH}"
    )
    return ("sh", "-c", f'exec wget -q -O /dev/null "{url}"')


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
        health=Health(CommandCheck(health_command()), interval_s=15, start_period_s=20),
        # Basic auth on every path, the web config holding only the password's bcrypt hash.
        command=(*config.command(), f"--web.config.file={WEB_CONFIG_PATH}"),
        ports=(Port(HTTP, endpoints.ALERTMANAGER_PORT, Reach.OPERATOR, binding),),
        metrics=Metrics(HTTP, web_auth=True),
        mounts=(Mount(DATA_VOLUME, endpoints.ALERTMANAGER_DATA_DIR),),
        config_dir=endpoints.ALERTMANAGER_CONFIG_DIR,
        files=(
            ConfigFile(config.CONFIG_PATH, config.config_text(settings), secrets=templated),
            ConfigFile(WEB_CONFIG_PATH, web_auth.web_config_text(), secrets=(SecretRef(web_auth.HASH_KEY),)),
        ),
        secret_files=(*secret_files, SecretFile(PASSWORD_PATH, SecretRef(web_auth.PASSWORD_KEY))),
    )
    return Part(services=(service,), volumes=(volume,))
