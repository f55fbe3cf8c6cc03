"""The gateway service: its config file, environment, secrets, volume and healthcheck.

Facts from the real 0.1.0 gateway (docs/gateway.md) drive the choices here: it must bind
0.0.0.0 in a container, `core.dataDir` must be set (its default is a literal `~` path),
exactly one log output (two or more log nothing), JSON on stdout.
"""

from __future__ import annotations

from infra import yamlio
from infra.metrics import jobs
from infra.settings import Settings
from infra.settings.defaults import GATEWAY_DATA_DIR
from infra.settings.secrets import AI_PROVIDER_KEYS, METRICS_TOKEN
from infra.stack.parts import Part
from infra.stack.spec import (
    WGET,
    ConfigFile,
    EnvValue,
    Health,
    HostBinding,
    HttpCheck,
    Image,
    Metrics,
    Mount,
    Port,
    Reach,
    SecretRef,
    Service,
    Shutdown,
    Volume,
    Workload,
    resources,
)

NAME = jobs.GATEWAY
DATA_VOLUME = "gateway-data"
# Last entry of the gateway's config search order; nothing in the image shadows it.
CONFIG_DIR = "/etc/secureyeoman"
CONFIG_PATH = f"{CONFIG_DIR}/config.yaml"
DATA_DIR = GATEWAY_DATA_DIR
HEALTH_PATH = "/health"
METRICS_PATH = "/metrics"
HTTP = "http"  # the name of its one port

# Environment variable the gateway reads for each secret key.
SECRET_ENV: dict[str, str] = {
    "signingKey": "SECUREYEOMAN_SIGNING_KEY",
    "tokenSecret": "SECUREYEOMAN_TOKEN_SECRET",
    "encryptionKey": "SECUREYEOMAN_ENCRYPTION_KEY",
    "adminPassword": "SECUREYEOMAN_ADMIN_PASSWORD",
}
PROVIDER_ENV: dict[str, str] = {
    "anthropic": "ANTHROPIC_API_KEY",
    "openai": "OPENAI_API_KEY",
    "google": "GOOGLE_GENERATIVE_AI_API_KEY",
}


def gateway_config(settings: Settings, *, data_dir: str = DATA_DIR, host: str = "0.0.0.0") -> dict[str, object]:
    """The gateway's own YAML config (no secrets: those come from the environment).

    Defaults are the container's; bare metal (infra.host) passes its own data dir and address.
    """
    return {
        "core": {"dataDir": data_dir},
        "gateway": {"host": host, "port": settings.gateway_port},
        "logging": {"output": [{"type": "stdout", "format": "json"}]},
        # Read by later gateway versions; 0.1.0 serves /metrics regardless.
        "metrics": {"prometheus": {"enabled": True, "path": METRICS_PATH}},
    }


def gateway_env(settings: Settings, *, host: str = "0.0.0.0") -> dict[str, EnvValue]:
    env: dict[str, EnvValue] = {
        "NODE_ENV": "production",
        "SECUREYEOMAN_HOST": host,
        "SECUREYEOMAN_PORT": str(settings.gateway_port),
        "SECUREYEOMAN_LOG_LEVEL": settings.gateway_log_level,
    }
    for key, var in SECRET_ENV.items():
        env[var] = SecretRef(key)
    env[PROVIDER_ENV[settings.ai_provider]] = SecretRef(AI_PROVIDER_KEYS[settings.ai_provider])
    return env


def health() -> Health:
    # wget ships in the image; a check from inside comes from 127.0.0.1, which passes the
    # gateway's private-address check.
    return Health(HttpCheck(HTTP, HEALTH_PATH, WGET), interval_s=15, start_period_s=30)


def port(settings: Settings) -> Port:
    # Behind the reverse proxy the gateway is reached over the stack network only.
    if settings.proxy_enabled:
        return Port(HTTP, settings.gateway_port)
    binding = HostBinding(str(settings.gateway_bind_address), settings.gateway_host_port)
    return Port(HTTP, settings.gateway_port, Reach.OPERATOR, binding)


def metrics(settings: Settings) -> Metrics:
    # The 0.1.0 gateway answers 401 without an admin credential; later versions serve
    # /metrics publicly. The credential is sent when the stack sets the metricsToken secret.
    credential = SecretRef(METRICS_TOKEN) if METRICS_TOKEN in settings.secrets_set else None
    return Metrics(HTTP, METRICS_PATH, credential)


def build(settings: Settings) -> Part:
    volume = Volume(
        name=DATA_VOLUME,
        purpose="gateway SQLite databases (WAL mode; one gateway per volume)",
        owner_uid=settings.gateway_uid,
        owner_gid=settings.gateway_gid,
    )
    service = Service(
        name=NAME,
        image=Image(settings.gateway_image, settings.gateway_tag),
        uid=settings.gateway_uid,
        gid=settings.gateway_gid,
        # SQLite databases in WAL mode: one gateway per data volume.
        workload=Workload.SINGLE_WRITER,
        resources=resources(settings.gateway_memory_mb, settings.gateway_cpu_millicores),
        health=health(),
        env=gateway_env(settings),
        ports=(port(settings),),
        metrics=metrics(settings),
        mounts=(Mount(DATA_VOLUME, DATA_DIR),),
        config_dir=CONFIG_DIR,
        files=(ConfigFile(CONFIG_PATH, yamlio.safe_dump(gateway_config(settings), sort_keys=False)),),
        # SIGHUP kills the 0.1.0 gateway and SIGUSR1 opens its debugger: stop with SIGTERM only.
        shutdown=Shutdown.TERM,
    )
    return Part(services=(service,), volumes=(volume,))
