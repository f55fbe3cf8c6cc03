"""Bring up a rendered stack on the engine: the target's plan, sent in the provider's order.

Names are unique per run (the stack's name prefix carries the run id) and every published port
is a free port on 127.0.0.1. Steps run as `pulumi up` runs them: each step starts as soon as every
step it depends on is done (one-shots exited, services healthy), not in waves; independent steps
run at the same time, as Pulumi creates independent resources in parallel.

The scrape credential (`metricsToken`) is an admin API key the real gateway keeps in its own
database, so it cannot exist before the gateway does. The operator's way (docs/engine-test.md):
start the gateway, create the key through its API, `pulumi config set --secret friday:metricsToken`,
`pulumi up`. The runner does the same in one pass: one more step, after the gateway is healthy, logs
in with the stack's admin password and creates the key (ADMIN_KEY_STEP); every container that takes
`metricsToken` (metrics-auth, probe-auth) waits for it and is created with the key.
"""

from __future__ import annotations

import secrets as random_secrets
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker

from infra.monitoring import web_auth
from infra.settings import Settings
from infra.settings.load import RawConfig, read_stack_file, stack_file, validate
from infra.settings.secrets import PROXY_TLS_KEYS
from infra.stack import build_stack, gateway
from infra.stack.spec import SecretRef, Service, StackSpec
from infra.targets import docker_map, docker_plan
from infra.targets.docker_plan import DockerPlan, OneShot, ServiceContainer, Upload
from testbed import localize
from testbed.processes import free_port
from tests.support import real_gateway
from tests.support.engine.images import LEFT_OUT
from tests.support.engine.provider import Deviations, Provider, run_prefix
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
# The scrape credential metrics-auth adds for Prometheus: an admin API key of the gateway.
METRICS_KEY = "metricsToken"
ADMIN_PASSWORD = "adminPassword"
# The step that creates it: after the gateway is healthy, before whatever takes the key.
ADMIN_KEY_STEP = "gateway-admin-api-key"


def engine_settings(run_id: str, variant: str, plain: Mapping[str, Any]) -> Settings:
    """The dev stack's settings (Pulumi.dev.yaml) with a unique name prefix and free loopback ports."""
    dev = read_stack_file(stack_file("dev"), "dev")
    values: dict[str, Any] = {**dev.plain, **plain}
    values["namePrefix"] = f"{run_prefix(run_id)}{variant}"
    for key in HOST_PORT_KEYS:
        values[key] = free_port()
    return validate(RawConfig("dev", values, dev.secret_keys | {METRICS_KEY, "anthropicApiKey"}))


def secret_values(spec: StackSpec, tls_dir: Path, server_name: str) -> dict[str, str]:
    """Random values for the stack's secrets, but metricsToken: the gateway makes that one (ADMIN_KEY_STEP)."""
    values = {key: random_secrets.token_urlsafe(32) for key in spec.secret_keys() if key != METRICS_KEY}
    if web_auth.PASSWORD_KEY in values:
        # As pulumi-random makes them: letters and digits, and the bcrypt hash of that password.
        values[web_auth.PASSWORD_KEY] = random_secrets.token_hex(16)
        values[web_auth.HASH_KEY] = localize.bcrypt_hash(values[web_auth.PASSWORD_KEY])
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

    def address(self, client: docker.DockerClient, service: str, port: str = "http") -> str:
        """http://IP:port of a service on the stack network, as the host reaches it."""
        return container_url(
            client, self.containers[service], self.plan.network, self.service(service).port(port).number
        )


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
        self.start_when_ready(steps)
        self.stack.skipped = skipped
        return self.stack

    def start_when_ready(self, steps: list[docker_plan.Step]) -> None:
        """Run every step as soon as the steps it depends on are done (as Pulumi does), each in its
        own thread; a failure stops the start of anything not started yet and is raised."""
        after = {s.name: _after(s) for s in steps}
        takes_key = {s.name for s in steps if METRICS_KEY in _secret_keys(s)}
        if takes_key:
            after[ADMIN_KEY_STEP] = (self.stack.step(gateway.NAME).name,)
            for name in takes_key:
                after[name] += (ADMIN_KEY_STEP,)
        work = {s.name: s for s in steps}
        pending = set(after)
        done: set[str] = set()
        running: dict[Future[None], str] = {}
        with ThreadPoolExecutor(max_workers=len(after)) as pool:
            while pending or running:
                for name in sorted(n for n in pending if all(a in done for a in after[n])):
                    pending.discard(name)
                    running[pool.submit(self._run, work.get(name))] = name
                assert running, f"no step can start: {sorted(pending)}"
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    name = running.pop(future)
                    if future.exception() is not None:
                        pending.clear()
                    future.result()
                    done.add(name)

    def create_admin_key(self) -> None:
        """The operator's step: log in to the running gateway with the admin password and create an
        admin API key (POST /api/v1/auth/api-keys); it becomes the stack's metricsToken."""
        url = self.stack.address(self.provider.client, gateway.NAME)
        token = real_gateway.login(url, self.stack.secrets[ADMIN_PASSWORD])
        self.stack.secrets[METRICS_KEY] = real_gateway.create_api_key(url, token, role="admin", name="metrics-scrape")

    def _run(self, step: docker_plan.Step | None) -> None:
        """One step of the plan, or (None) ADMIN_KEY_STEP."""
        if step is None:
            self.create_admin_key()
        elif isinstance(step, OneShot):
            self.run_one_shot(step)
        else:
            self.stack.containers[step.service] = self.run_service(step)


def container_url(client: docker.DockerClient, container_id: str, network: str, port: int) -> str:
    """http://IP:port of a container on a stack network, as the host reaches it (the engine's bridge
    is routed on the host; the container sees the bridge's private address)."""
    ip = client.api.inspect_container(container_id)["NetworkSettings"]["Networks"][network]["IPAddress"]
    return f"http://{ip}:{port}"


def runner(client: docker.DockerClient, stack: RunningStack) -> StackRunner:
    """A runner for a stack that is up (to recreate one of its containers)."""
    assert stack.deviations is not None
    return StackRunner(client, stack.deviations, stack)


def _after(step: docker_plan.Step) -> tuple[str, ...]:
    return step.after if isinstance(step, ServiceContainer) else ()


def _secret_keys(step: docker_plan.Step) -> set[str]:
    """The secrets a step hands its container (environment) or delivers (uploads)."""
    if isinstance(step, ServiceContainer):
        return {v.key for v in step.env.values() if isinstance(v, SecretRef)}
    keys = {ref.key for u in step.uploads for ref in u.fills}
    return keys | {u.content.key for u in step.uploads if isinstance(u.content, SecretRef)}


def prepare(run_id: str, variant: str, plain: Mapping[str, Any], tls_dir: Path) -> RunningStack:
    settings = engine_settings(run_id, variant, plain)
    spec = build_stack(settings)
    plan = docker_plan.plan(spec, docker_map.policy(settings))
    values = secret_values(spec, tls_dir, settings.proxy_server_name)
    return RunningStack(settings, spec, plan, values, tls_dir)


def stack_deviations(images: Mapping[str, str], run_id: str) -> Deviations:
    """The engine's images (the real gateway, stand-ins for the rest) and the run label."""
    return Deviations(images=images, run_id=run_id)
