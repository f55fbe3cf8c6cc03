"""`build_stack`: settings in, the whole stack as data out.

A new service joins the stack by adding its builder to BUILDERS; no target changes.
"""

from __future__ import annotations

from collections import Counter
from ipaddress import ip_address

from infra.monitoring import alertmanager, prometheus
from infra.settings import Settings, SettingsError
from infra.settings.secrets import SECRETS_BY_KEY
from infra.stack import alloy, backup, gateway, grafana, loki, proxy, swagger_ui
from infra.stack.parts import Builder
from infra.stack.spec import Image, StackSpec

BUILDERS: tuple[Builder, ...] = (
    gateway.build,
    prometheus.build,
    alertmanager.build,
    grafana.build,
    backup.build,
    loki.build,
    alloy.build,
    swagger_ui.build,
    proxy.build,
)


def build_stack(settings: Settings) -> StackSpec:
    parts = [builder(settings) for builder in BUILDERS]
    spec = StackSpec(
        stack=settings.stack,
        environment=settings.environment,
        prefix=settings.name_prefix,
        services=tuple(s for p in parts for s in p.services),
        volumes=tuple(v for p in parts for v in p.volumes),
        volume_init_image=Image(settings.docker_init_image, settings.docker_init_tag),
    )
    _check(spec, settings)
    return spec


def _check(spec: StackSpec, settings: Settings) -> None:
    """Consistency of the assembled stack; clashing host ports are a settings problem."""
    for kind, names in (
        ("service", [s.name for s in spec.services]),
        ("volume", [v.name for v in spec.volumes]),
    ):
        dupes = [n for n, c in Counter(names).items() if c > 1]
        if dupes:
            raise AssertionError(f"duplicate {kind} names in the stack: {dupes}")
    volumes = {v.name for v in spec.volumes}
    _check_order(spec)
    for service in spec.services:
        for mount in service.mounts:
            if mount.volume not in volumes:
                raise AssertionError(f"{service.name} mounts undeclared volume {mount.volume!r}")
        for path in [f.path for f in service.files] + [f.path for f in service.secret_files]:
            if service.config_dir is None or not path.startswith(service.config_dir.rstrip("/") + "/"):
                raise AssertionError(f"{service.name}: {path} is outside its config_dir {service.config_dir}")
        for ref in service.secret_refs():
            if ref not in SECRETS_BY_KEY:
                raise AssertionError(f"{service.name} uses unknown secret {ref!r}")
    problems = _port_clashes(spec)
    if problems:
        raise SettingsError(settings.stack, problems)


def _port_clashes(spec: StackSpec) -> list[str]:
    problems = []
    bound: list[tuple[str, int, str]] = []
    for service in spec.services:
        for port in service.ports:
            for address, number, owner in bound:
                if number == port.host_port and addresses_clash(address, port.bind_address):
                    problems.append(
                        f"host port {port.host_port} on {port.bind_address} is wanted by both {owner} (on {address}) "
                        f"and {service.name}/{port.name}; a port on 0.0.0.0 or :: takes it on every address: "
                        "give one of them another port"
                    )
            bound.append((port.bind_address, port.host_port, f"{service.name}/{port.name}"))
    return problems


def addresses_clash(a: str, b: str) -> bool:
    """Two binds of one port collide: the same address, or either is a wildcard (0.0.0.0, ::)."""
    first, second = ip_address(a), ip_address(b)
    return first == second or first.is_unspecified or second.is_unspecified


def _check_order(spec: StackSpec) -> None:
    """A service may depend only on services before it (targets create them in order)."""
    seen: set[str] = set()
    for service in spec.services:
        for dep in service.depends_on:
            if dep not in seen:
                raise AssertionError(f"{service.name} depends on {dep!r}, which is not an earlier service")
        seen.add(service.name)
