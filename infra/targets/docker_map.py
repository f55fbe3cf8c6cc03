"""Docker target, the pure half: one service mapped to its container settings (no Pulumi).

infra/targets/docker_plan.py adds what the whole stack needs around these (network, volumes,
the volume-init and config-delivery steps); infra/targets/docker.py turns that into resources.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from infra.settings import Settings
from infra.stack.spec import Image, Service, StackSpec

# The bare form: `no-new-privileges:true` is deprecated by the engine (a warning per container).
SECURITY_OPTS = ("no-new-privileges",)
LOG_DRIVER = "json-file"
PURPOSE_LABEL = "friday.purpose"
# How long `pulumi up` waits for a container to report healthy.
WAIT_TIMEOUT_S = 120


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
    stop_timeout_s: int
    log_driver: str
    log_opts: dict[str, str]
    labels: dict[str, str] = field(default_factory=dict)


def base_name(spec: StackSpec) -> str:
    return f"{spec.prefix}-{spec.stack}"


def labels(spec: StackSpec, service: str) -> dict[str, str]:
    # Alloy and operators select containers by these labels.
    return {"friday.stack": spec.stack, "friday.environment": spec.environment, "friday.service": service}


def container(spec: StackSpec, service: Service, docker: DockerPolicy) -> Container:
    hc = service.healthcheck
    return Container(
        name=f"{base_name(spec)}-{service.name}",
        hostname=service.name,
        image=service.image.ref,
        user=service.user,
        group_adds=tuple(str(g) for g in service.extra_groups),
        command=service.command,
        ports=tuple(PublishedPort(p.container_port, p.host_port, p.bind_address) for p in service.ports),
        healthcheck=Healthcheck(
            tests=("CMD", *hc.command),
            interval=f"{hc.interval_s}s",
            timeout=f"{hc.timeout_s}s",
            retries=hc.retries,
            start_period=f"{hc.start_period_s}s",
        ),
        memory_mb=service.limits.memory_mb,
        # Swap equal to memory: the limit is a real limit, not memory plus as much swap.
        memory_swap_mb=service.limits.memory_mb,
        cpus=f"{service.limits.cpu_millicores / 1000:g}",
        read_only=service.read_only_root,
        tmpfs=dict(service.tmpfs),
        capability_adds=service.capabilities_add,
        restart=service.restart,
        stop_signal=service.stop_signal,
        stop_timeout_s=service.stop_grace_s,
        log_driver=LOG_DRIVER,
        log_opts={"max-size": service.log.max_size, "max-file": str(service.log.max_files)},
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
    return {
        f"{s.name}/{p.name}": url(PublishedPort(p.container_port, p.host_port, p.bind_address), p.scheme)
        for s in spec.services
        for p in s.ports
    }
