"""Docker target, the pure half: the stack's target-neutral services mapped to container settings.

Everything Docker-only lives here, not in the shared spec: the restart policy, json-file log
rotation, the one-shot volume-init container, tmpfs option strings, stop signals, labels, the
healthcheck as a command run inside the container, and which ports are published on the host.
Plain data in, plain data out (no Pulumi): infra/targets/docker.py turns it into resources, and
tests read it directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from infra.logs.pipeline import ENVIRONMENT_LABEL, SERVICE_LABEL, STACK_LABEL
from infra.settings import Settings
from infra.stack.spec import CommandCheck, Image, Reach, Scratch, Service, Shutdown, StackSpec

# The bare form: `no-new-privileges:true` is deprecated by the engine (a warning on every container).
SECURITY_OPTS = ("no-new-privileges",)
LOG_DRIVER = "json-file"
# Volume labels: stable values only (a changed label makes the provider replace the volume).
VOLUME_LABEL = "friday.volume"
VOLUME_KIND_LABEL = "friday.volume-kind"
# Healthchecks run inside the container, where the service listens on all addresses.
CHECK_HOST = "127.0.0.1"
# How long `pulumi up` waits for a container to report healthy.
WAIT_TIMEOUT_S = 120
STOP_SIGNAL = {Shutdown.TERM: "SIGTERM", Shutdown.GRACEFUL_QUIT: "SIGQUIT"}


@dataclass(frozen=True)
class DockerPolicy:
    """The Docker-only settings every container of the stack shares."""

    restart: str
    log_max_size: str
    log_max_files: int
    # The one-shot container that hands each data volume to its owner.
    volume_init_image: Image


def policy(settings: Settings) -> DockerPolicy:
    return DockerPolicy(
        restart=settings.docker_restart_policy,
        log_max_size=settings.docker_log_max_size,
        log_max_files=settings.docker_log_max_files,
        volume_init_image=Image(settings.docker_init_image, settings.docker_init_tag),
    )


@dataclass(frozen=True)
class PublishedPort:
    internal: int
    external: int
    ip: str


@dataclass(frozen=True)
class Healthcheck:
    tests: tuple[str, ...]
    interval: str
    timeout: str
    retries: int
    start_period: str


@dataclass(frozen=True)
class Container:
    """One service's container settings, secrets and file uploads aside (they need the secrets)."""

    name: str
    hostname: str
    image: str
    user: str
    group_adds: tuple[str, ...]
    command: tuple[str, ...]
    ports: tuple[PublishedPort, ...]
    healthcheck: Healthcheck
    memory_mb: int
    memory_swap_mb: int
    cpus: str
    read_only: bool
    tmpfs: dict[str, str]
    capability_adds: tuple[str, ...]
    restart: str
    stop_signal: str
    # The service's stop grace: the engine's stop timeout (`docker stop`, a restart) and the
    # provider's `destroy_grace_seconds` (without it the provider stops a container it replaces or
    # destroys with a 0 s timeout: SIGKILL at once).
    stop_timeout_s: int
    log_driver: str
    log_opts: dict[str, str]
    labels: dict[str, str] = field(default_factory=dict)


def base_name(spec: StackSpec) -> str:
    return f"{spec.prefix}-{spec.stack}"


def user(service: Service) -> str:
    return f"{service.uid}:{service.gid}"


def labels(spec: StackSpec, service: str) -> dict[str, str]:
    # Alloy (infra/logs/pipeline.py) and operators select containers by these labels.
    return {STACK_LABEL: spec.stack, ENVIRONMENT_LABEL: spec.environment, SERVICE_LABEL: service}


def volume_labels(spec: StackSpec, volume: str, *, data: bool) -> dict[str, str]:
    """Only what never changes for a volume of that name: the stack's name, the volume's name
    without the prefix, its kind. No setting (`environment` can change) and no free text."""
    return {STACK_LABEL: spec.stack, VOLUME_LABEL: volume, VOLUME_KIND_LABEL: "data" if data else "config"}


def tmpfs_options(scratch: Scratch) -> str:
    return f"rw,noexec,nosuid,nodev,size={scratch.size_mb}m"


def healthcheck(service: Service) -> Healthcheck:
    health = service.health
    if isinstance(health.check, CommandCheck):
        command = health.check.command
    else:
        port = service.port(health.check.port)
        url = f"{port.scheme}://{CHECK_HOST}:{port.number}{health.check.path}"
        command = tuple(part.replace("{url}", url) for part in health.check.fetch)
    return Healthcheck(
        tests=("CMD", *command),
        interval=f"{health.interval_s}s",
        timeout=f"{health.timeout_s}s",
        retries=health.retries,
        start_period=f"{health.start_period_s}s",
    )


def published_ports(service: Service) -> tuple[PublishedPort, ...]:
    """OPERATOR and PUBLIC ports are published on their host binding; SERVICES ports stay on the
    stack network (every container reaches every other by its service name there)."""
    out = []
    for port in service.ports:
        if port.reach is Reach.SERVICES:
            continue
        assert port.host is not None
        out.append(PublishedPort(internal=port.number, external=port.host.port, ip=port.host.address))
    return tuple(out)


def container(spec: StackSpec, service: Service, docker: DockerPolicy) -> Container:
    limits = service.resources.limits
    return Container(
        name=f"{base_name(spec)}-{service.name}",
        hostname=service.name,
        image=service.image.ref,
        user=user(service),
        group_adds=tuple(str(g) for g in service.extra_groups),
        command=service.command,
        ports=published_ports(service),
        healthcheck=healthcheck(service),
        memory_mb=limits.memory_mb,
        # Swap equal to memory: the limit is a real limit, not memory plus as much swap.
        memory_swap_mb=limits.memory_mb,
        cpus=f"{limits.cpu_millicores / 1000:g}",
        read_only=service.read_only_root,
        tmpfs={s.path: tmpfs_options(s) for s in service.scratch},
        capability_adds=service.capabilities_add,
        restart=docker.restart,
        stop_signal=STOP_SIGNAL[service.shutdown],
        stop_timeout_s=service.stop_grace_s,
        log_driver=LOG_DRIVER,
        log_opts={"max-size": docker.log_max_size, "max-file": str(docker.log_max_files)},
        labels=labels(spec, service.name),
    )


def url(port: PublishedPort, scheme: str) -> str:
    """Where the operator opens a published port from the host."""
    host = port.ip
    if host in ("0.0.0.0", "::"):
        host = "localhost"
    elif ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port.external}"


def urls(spec: StackSpec) -> dict[str, str]:
    """`service/port-name` -> URL of every published port."""
    out = {}
    for service in spec.long_running():
        for port in service.ports:
            if port.host is not None:
                published = PublishedPort(port.number, port.host.port, port.host.address)
                out[f"{service.name}/{port.name}"] = url(published, port.scheme)
    return out
