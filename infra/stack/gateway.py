"""The gateway service: its config file, environment, secrets, volume and healthcheck.

Facts from the real 0.1.0 gateway (docs/gateway.md) drive the choices here: it must bind
0.0.0.0 in a container, `core.dataDir` must be set (its default is a literal `~` path),
exactly one log output (two or more log nothing), JSON on stdout, the log level only from
`logging.level` (SECUREYEOMAN_LOG_LEVEL lands in a key nothing reads), the reported environment
from SECUREYEOMAN_ENV (not NODE_ENV).
"""

from __future__ import annotations

from infra import yamlio
from infra.metrics import jobs
from infra.settings import Settings, gateway_cost
from infra.settings.base import duration_seconds
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
    StackSpec,
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
# How often the health check runs, at least (longer when its timeout is longer).
HEALTH_INTERVAL_S = 15
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
# The gateway's own name for each provider (model.provider): without it the gateway assumes anthropic
# and demands ANTHROPIC_API_KEY at start, whichever key the stack gave it.
PROVIDER_NAME: dict[str, str] = {"anthropic": "anthropic", "openai": "openai", "google": "gemini"}


def gateway_config(settings: Settings, *, data_dir: str = DATA_DIR, host: str = "0.0.0.0") -> dict[str, object]:
    """The gateway's own YAML config (no secrets: those come from the environment).

    Defaults are the container's; bare metal (infra.host) passes its own data dir and address.
    """
    return {
        "core": {"dataDir": data_dir},
        "gateway": {"host": host, "port": settings.gateway_port},
        "logging": {"level": settings.gateway_log_level, "output": [{"type": "stdout", "format": "json"}]},
        "model": {"provider": PROVIDER_NAME[settings.ai_provider], "apiKeyEnv": PROVIDER_ENV[settings.ai_provider]},
        # Read by later gateway versions; 0.1.0 serves /metrics regardless.
        "metrics": {"prometheus": {"enabled": True, "path": METRICS_PATH}},
    }


def gateway_env(settings: Settings, *, host: str = "0.0.0.0") -> dict[str, EnvValue]:
    env: dict[str, EnvValue] = {
        # The gateway accepts only development|staging|production here (exit 1 otherwise); the stack's own
        # environment name stays on metrics and logs as a label.
        "SECUREYEOMAN_ENV": settings.gateway_environment_value,
        "SECUREYEOMAN_HOST": host,
        "SECUREYEOMAN_PORT": str(settings.gateway_port),
    }
    for key, var in SECRET_ENV.items():
        env[var] = SecretRef(key)
    env[PROVIDER_ENV[settings.ai_provider]] = SecretRef(AI_PROVIDER_KEYS[settings.ai_provider])
    return env


def health(settings: Settings) -> Health:
    """wget ships in the image; a check from inside comes from 127.0.0.1, which passes the
    gateway's private-address check. It proves only that HTTP answers: 0.1.0's /health reports
    its database and audit checks as constants (the audit chain is watched by
    friday_audit_chain_valid, alert AuditChainBroken).

    Its timeout outlasts the longest /health wait a scrape up to gatewayScrapeTimeout causes (a
    scrape blocks the gateway; infra/settings/gateway_cost.py), so a scrape never fails the check
    and a liveness probe never kills the gateway for one; it runs at least that often."""
    timeout = gateway_cost.health_timeout_s(duration_seconds(settings.gateway_scrape_timeout))
    return Health(
        HttpCheck(HTTP, HEALTH_PATH, WGET),
        interval_s=max(HEALTH_INTERVAL_S, timeout + 1),
        timeout_s=timeout,
        start_period_s=30,
    )


def port(settings: Settings) -> Port:
    # Behind the reverse proxy the gateway is reached over the stack network only.
    if settings.proxy_enabled:
        return Port(HTTP, settings.gateway_port)
    binding = HostBinding(str(settings.gateway_bind_address), settings.gateway_host_port)
    return Port(HTTP, settings.gateway_port, Reach.OPERATOR, binding)


def address(settings: Settings) -> str:
    """host:port of the gateway for the stack's other services (Docker's network, by its service name)."""
    return f"{NAME}:{settings.gateway_port}"


def scrape(spec: StackSpec) -> Metrics:
    """The gateway's scrape job as the spec declares it: the Metrics Prometheus scrapes for job
    `gateway` (the metrics-auth proxy's when the gateway wants a key, else the gateway's own)."""
    [metrics] = [
        s.metrics
        for s in spec.services
        if s.metrics is not None and s.metrics.credential is None and (s.metrics.job or s.name) == NAME
    ]
    return metrics


def has_admin_key(settings: Settings) -> bool:
    """Is the gateway's admin API key (the metricsToken secret) set? Its one owner: the scrape
    through metrics-auth and the credentialed WebSocket probe both ask here."""
    return METRICS_TOKEN in settings.secrets_set


def scraped_through_metrics_auth(settings: Settings) -> bool:
    """Gateway 0.1.0 answers /metrics only to an admin API key in X-API-Key: with the metricsToken
    secret set, the metrics-auth proxy (infra/stack/metrics_auth.py) adds it and Prometheus scrapes
    that proxy; without it (a later gateway whose /metrics is public) the gateway directly."""
    return has_admin_key(settings)


def metrics(settings: Settings) -> Metrics:
    """The gateway's metrics: with the metricsToken secret set they need that admin key as
    X-API-Key, which a metrics-auth proxy adds (and that proxy is scraped, under the gateway's job).
    The job's interval and timeout are its own: each /metrics call costs the gateway about 15 us
    per audit entry (docs/gateway.md)."""
    return Metrics(
        HTTP,
        METRICS_PATH,
        credential=SecretRef(METRICS_TOKEN) if scraped_through_metrics_auth(settings) else None,
        interval=settings.gateway_scrape_interval,
        timeout=settings.gateway_scrape_timeout,
    )


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
        health=health(settings),
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
