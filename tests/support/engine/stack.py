"""Bring up a rendered stack on the engine: the target's plan, sent in the provider's order.

Names are unique per run (the stack's name prefix carries the run id) and every published port
is a free port on 127.0.0.1. Steps run as `pulumi up` would run them: a step starts once every
step it depends on is done (one-shots exited, services healthy); independent steps run at the
same time, as Pulumi creates independent resources in parallel.
"""

from __future__ import annotations

import secrets as random_secrets
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker

from infra.settings import Settings
from infra.settings.load import RawConfig, read_stack_file, stack_file, validate
from infra.settings.secrets import PROXY_TLS_KEYS
from infra.stack import build_stack
from infra.stack.spec import Service, StackSpec
from infra.targets import docker_map, docker_plan
from infra.targets.docker_plan import DockerPlan, OneShot, ServiceContainer, Upload
from tests.support.engine.gateway_standin import KEY_ENV
from tests.support.engine.images import LEFT_OUT
from tests.support.engine.provider import Deviations, Provider, run_prefix
from tests.support.processes import free_port
from tests.support.tls import self_signed

HOST_PORT_KEYS = (
    "gatewayHostPort",
    "prometheusHostPort",
    "alertmanagerHostPort",
    "grafanaHostPort",
    "lokiHostPort",
    "swaggerUiHostPort",
    "proxyHttpHostPort",
    "proxyHttpsHostPort",
)
# The scrape credential Prometheus sends to the gateway (the stand-in is told to demand it).
METRICS_KEY = "metricsToken"


def engine_settings(run_id: str, variant: str, plain: Mapping[str, Any]) -> Settings:
    """The dev stack's settings (Pulumi.dev.yaml) with a unique name prefix and free loopback ports."""
    dev = read_stack_file(stack_file("dev"), "dev")
    values: dict[str, Any] = {**dev.plain, **plain}
    values["namePrefix"] = f"{run_prefix(run_id)}{variant}"
    for key in HOST_PORT_KEYS:
        values[key] = free_port()
    return validate(RawConfig("dev", values, dev.secret_keys | {METRICS_KEY, "anthropicApiKey"}))


def secret_values(spec: StackSpec, tls_dir: Path, server_name: str) -> dict[str, str]:
    values = {key: random_secrets.token_urlsafe(32) for key in spec.secret_keys()}
    if set(PROXY_TLS_KEYS) & set(values):
        cert = self_signed(tls_dir, server_name)
        values[PROXY_TLS_KEYS[0]] = cert.cert.read_text()
        values[PROXY_TLS_KEYS[1]] = cert.key.read_text()
    return values


def left_out(plan: DockerPlan) -> set[str]:
    """Services whose upstream image has no Debian stand-in (Grafana, Loki, Alloy)."""
    return {
        s.service
        for s in plan.steps
        if isinstance(s, ServiceContainer) and s.settings.image.rsplit(":", 1)[0] in LEFT_OUT
    }


@dataclass
class RunningStack:
    settings: Settings
    spec: StackSpec
    plan: DockerPlan
    secrets: dict[str, str]
    tls_dir: Path
    # Service name -> container id, for the services that run.
    containers: dict[str, str] = field(default_factory=dict)
    skipped: set[str] = field(default_factory=set)
    deviations: Deviations | None = None

    def service(self, name: str) -> Service:
        """A service the Docker target runs (the services and the scheduled tasks' resident forms)."""
        for s in self.spec.long_running():
            if s.name == name:
                return s
        raise KeyError(f"no service {name!r} runs on Docker")

    def port(self, service: str, name: str = "http") -> int:
        host = self.service(service).port(name).host
        if host is None:
            raise KeyError(f"{service} publishes no port {name!r}")
        return host.port

    def step(self, service: str) -> ServiceContainer:
        return self.plan.service(service)


def _delivered(plan: DockerPlan, step: ServiceContainer, secrets: Mapping[str, str]) -> list[tuple[Upload, str]] | None:
    if step.config_init is None:
        return None
    init = plan.step(step.config_init)
    assert isinstance(init, OneShot)
    return [(u, u.resolve(dict(secrets))) for u in init.uploads]


class StackRunner:
    def __init__(self, client: docker.DockerClient, deviations: Deviations, stack: RunningStack) -> None:
        self.provider = Provider(client, deviations)
        self.stack = stack
        stack.deviations = deviations

    def run_service(self, step: ServiceContainer) -> str:
        """Create, start and wait until healthy (the provider's `wait`); returns the container id."""
        container_id = self.provider.create_service(
            step, self.stack.secrets, _delivered(self.stack.plan, step, self.stack.secrets)
        )
        self.provider.start_service(container_id)
        self.provider.wait_healthy(container_id)
        return container_id

    def run_one_shot(self, step: OneShot) -> None:
        code = self.provider.run_one_shot(step, self.stack.secrets)
        if code != 0:
            logs = self.provider.client.containers.get(step.name).logs().decode(errors="replace")
            raise AssertionError(f"{step.name} exited {code}: {logs}")

    def up(self) -> RunningStack:
        plan = self.stack.plan
        skipped = left_out(plan)
        steps: list[docker_plan.Step] = []
        for step in plan.steps:
            if isinstance(step, ServiceContainer):
                if step.service in skipped:
                    continue
                missing = [name for name in step.after if name in {plan.service(s).name for s in skipped}]
                assert not missing, f"{step.service} depends on left-out services {missing}"
            steps.append(step)
        # One-shots of left-out services (their config or their own volumes) are left out too.
        wanted_volumes = {m.volume for s in steps if isinstance(s, ServiceContainer) for m in s.mounts}
        steps = [
            s for s in steps if isinstance(s, ServiceContainer) or any(m.volume in wanted_volumes for m in s.mounts)
        ]
        self.provider.network(plan.network)
        for volume in plan.volumes:
            if volume.name in wanted_volumes:
                self.provider.volume(volume.name, volume.labels)
        done: set[str] = set()
        remaining = list(steps)
        with ThreadPoolExecutor(max_workers=8) as pool:
            while remaining:
                ready = [s for s in remaining if all(a in done for a in _after(s))]
                assert ready, f"no step can start: {[s.name for s in remaining]}"
                futures = {s.name: pool.submit(self._run, s) for s in ready}
                for name, future in futures.items():
                    future.result()
                    done.add(name)
                remaining = [s for s in remaining if s.name not in done]
        self.stack.skipped = skipped
        return self.stack

    def _run(self, step: docker_plan.Step) -> None:
        if isinstance(step, OneShot):
            self.run_one_shot(step)
        else:
            self.stack.containers[step.service] = self.run_service(step)


def runner(client: docker.DockerClient, stack: RunningStack) -> StackRunner:
    """A runner for a stack that is up (to recreate one of its containers)."""
    assert stack.deviations is not None
    return StackRunner(client, stack.deviations, stack)


def _after(step: docker_plan.Step) -> tuple[str, ...]:
    return step.after if isinstance(step, ServiceContainer) else ()


def prepare(run_id: str, variant: str, plain: Mapping[str, Any], tls_dir: Path) -> RunningStack:
    settings = engine_settings(run_id, variant, plain)
    spec = build_stack(settings)
    plan = docker_plan.plan(spec, docker_map.policy(settings))
    values = secret_values(spec, tls_dir, settings.proxy_server_name)
    return RunningStack(settings, spec, plan, values, tls_dir)


def stack_deviations(images: Mapping[str, str], run_id: str, stack: RunningStack) -> Deviations:
    """The stand-in images, the run label, and the key the gateway stand-in demands on /metrics."""
    return Deviations(images=images, run_id=run_id, extra_env={"gateway": {KEY_ENV: stack.secrets[METRICS_KEY]}})
