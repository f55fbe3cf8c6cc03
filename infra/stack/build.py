"""`build_stack`: settings in, the whole stack as data out.

A new service joins the stack by adding its builder to BUILDERS; no target changes. Prometheus
is built last, from the metrics every other service declares.
"""

from __future__ import annotations

from collections import Counter

from infra.settings import Settings, SettingsError
from infra.settings.secrets import SECRETS_BY_KEY
from infra.stack import (
    alertmanager,
    alloy,
    backup,
    blackbox,
    gateway,
    grafana,
    listeners,
    loki,
    metrics_auth,
    prometheus,
    proxy,
    swagger_ui,
)
from infra.stack.parts import Builder
from infra.stack.spec import HttpCheck, Service, StackSpec

BUILDERS: tuple[Builder, ...] = (
    gateway.build,
    metrics_auth.build,
    alertmanager.build,
    grafana.build,
    backup.build,
    loki.build,
    alloy.build,
    swagger_ui.build,
    proxy.build,
    # After the gateway and the proxy: its probes target them.
    blackbox.build,
)


def build_stack(settings: Settings) -> StackSpec:
    parts = [builder(settings) for builder in BUILDERS]
    tasks = tuple(t for p in parts for t in p.tasks)
    # Prometheus scrapes what runs for long: the services and the tasks' resident forms.
    others = tuple(s for p in parts for s in p.services) + tuple(t.resident_service() for t in tasks)
    parts.append(prometheus.build(settings, others))
    spec = StackSpec(
        stack=settings.stack,
        environment=settings.environment,
        prefix=settings.name_prefix,
        services=tuple(s for p in parts for s in p.services),
        volumes=tuple(v for p in parts for v in p.volumes),
        tasks=tasks,
    )
    _check(spec, settings)
    return spec


def _check(spec: StackSpec, settings: Settings) -> None:
    """Consistency of the assembled stack; clashing host ports are a settings problem."""
    for kind, names in (
        ("service or task", [s.name for s in spec.long_running()]),
        ("volume", [v.name for v in spec.volumes]),
    ):
        dupes = [n for n, c in Counter(names).items() if c > 1]
        if dupes:
            raise AssertionError(f"duplicate {kind} names in the stack: {dupes}")
    volumes = {v.name for v in spec.volumes}
    _check_order(spec)
    for service in spec.long_running():
        _check_ports(service)
        for mount in service.mounts:
            if mount.volume not in volumes:
                raise AssertionError(f"{service.name} mounts undeclared volume {mount.volume!r}")
        for path in [f.path for f in service.files] + [f.path for f in service.secret_files]:
            if service.config_dir is None or not path.startswith(service.config_dir.rstrip("/") + "/"):
                raise AssertionError(f"{service.name}: {path} is outside its config_dir {service.config_dir}")
        for ref in service.secret_refs():
            if ref not in SECRETS_BY_KEY and ref not in {t.credential_key for t in settings.remote_write}:
                raise AssertionError(f"{service.name} uses unknown secret {ref!r}")
    problems = listeners.clashes(settings, listeners.places(settings, spec))
    if problems:
        raise SettingsError(settings.stack, problems)


def addresses_clash(a: str, b: str) -> bool:
    """Two binds of one port collide (infra/stack/listeners.py)."""
    return listeners.addresses_clash(a, b)


def _check_ports(service: Service) -> None:
    """Port names are unique, and whatever names a port (health, metrics) names one that exists."""
    names = [p.name for p in service.ports]
    if len(set(names)) != len(names):
        raise AssertionError(f"{service.name}: duplicate port names {names}")
    wanted = [service.metrics.port] if service.metrics else []
    if isinstance(service.health.check, HttpCheck):
        wanted.append(service.health.check.port)
    for name in wanted:
        service.port(name)


def _check_order(spec: StackSpec) -> None:
    """A service may depend only on services before it (targets create them in order)."""
    seen: set[str] = set()
    for service in spec.services:
        for dep in service.depends_on:
            if dep not in seen:
                raise AssertionError(f"{service.name} depends on {dep!r}, which is not an earlier service")
        seen.add(service.name)
