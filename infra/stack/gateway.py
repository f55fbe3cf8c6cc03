"""The gateway service: its config file, environment, secrets, volume and healthcheck.

Facts from the real 0.1.0 gateway (shared/gateway.md) drive the choices here: it must bind
0.0.0.0 in a container, `core.dataDir` must be set (its default is a literal `~` path),
exactly one log output (two or more log nothing), JSON on stdout.
"""

from __future__ import annotations

from infra import yamlio
from infra.settings import Settings
from infra.settings.secrets import AI_PROVIDER_KEYS
from infra.stack.common import TMPFS_TMP, log_options, user
from infra.stack.parts import Part
from infra.stack.spec import (
    ConfigFile,
    EnvValue,
    Healthcheck,
    Image,
    Limits,
    Mount,
    PublishedPort,
    SecretRef,
    Service,
    Volume,
)

NAME = "gateway"
DATA_VOLUME = "gateway-data"
# Last entry of the gateway's config search order; nothing in the image shadows it.
CONFIG_DIR = "/etc/secureyeoman"
CONFIG_PATH = f"{CONFIG_DIR}/config.yaml"
DATA_DIR = "/var/lib/secureyeoman/data"
HEALTH_PATH = "/health"
METRICS_PATH = "/metrics"

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


def healthcheck(settings: Settings) -> Healthcheck:
    # wget ships in the image; 127.0.0.1 passes the gateway's private-address check.
    url = f"http://127.0.0.1:{settings.gateway_port}{HEALTH_PATH}"
    return Healthcheck(command=("wget", "-q", "-O", "/dev/null", url), interval_s=15, start_period_s=30)


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
        user=user(settings.gateway_uid, settings.gateway_gid),
        limits=Limits(settings.gateway_memory_mb, settings.gateway_cpu_millicores),
        healthcheck=healthcheck(settings),
        log=log_options(settings),
        env=gateway_env(settings),
        # Behind the reverse proxy the gateway is reached over the stack network only.
        ports=()
        if settings.proxy_enabled
        else (
            PublishedPort(
                name="http",
                container_port=settings.gateway_port,
                host_port=settings.gateway_host_port,
                bind_address=str(settings.gateway_bind_address),
            ),
        ),
        mounts=(Mount(DATA_VOLUME, DATA_DIR),),
        config_dir=CONFIG_DIR,
        files=(ConfigFile(CONFIG_PATH, yamlio.safe_dump(gateway_config(settings), sort_keys=False)),),
        tmpfs=dict(TMPFS_TMP),
        restart=settings.docker_restart_policy,
        # SIGHUP kills the 0.1.0 gateway and SIGUSR1 opens its debugger: stop with SIGTERM only.
        stop_signal="SIGTERM",
    )
    return Part(services=(service,), volumes=(volume,))
