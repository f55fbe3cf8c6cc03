"""The targets of a stack, in one registry: the only place that reads `settings.target`.

A target has two halves. The plan (here, pure data, no Pulumi) is what `render` writes for it and what
deploy-time checks of this machine it needs; the deploy half (`DEPLOY` in infra/program/main.py) turns the same
data into Pulumi resources. `render`, `check`, preflight and the Pulumi program all iterate `TARGETS`.

Which targets a stack has:
- deployed: the one `friday:target` names (docker or kubernetes), deployed by `pulumi up`;
- rendered: that one, and bare metal, whose files (`host/`) every render writes so an operator can
  install the stack on a Debian host with systemd (docs/deployment.md), whatever the stack's target.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from infra import host_checks
from infra.host import artefacts as host_artefacts
from infra.host import backup as host_backup
from infra.host import metrics_auth_unit as host_metrics_auth
from infra.host import prometheus_files as host_prometheus
from infra.monitoring import cluster_sizing
from infra.settings import Settings
from infra.stack.spec import StackSpec
from infra.targets import docker_map, placement
from infra.targets.kubernetes_map import manifests as kubernetes_manifests


class Target(Protocol):
    """What every target answers; the Pulumi half is `DEPLOY[name]` in infra/program/main.py."""

    @property
    def name(self) -> str: ...

    @property
    def placements(self) -> Mapping[str, placement.Placement]:
        """How each service and task of the spec runs here (infra/targets/placement.py)."""
        ...

    def deployed(self, settings: Settings) -> bool:
        """Does `pulumi up` of this stack deploy this target?"""
        ...

    def rendered(self, settings: Settings) -> bool:
        """Does `render` of this stack write this target's files?"""
        ...

    def plan(self, settings: Settings, spec: StackSpec) -> dict[str, str]:
        """The target's artefacts as render writes them: {path under the output folder: content}."""
        ...

    def machine_facts(self, settings: Settings, providers: Mapping[str, Any]) -> tuple[Settings, list[str]]:
        """Settings completed with facts of this machine read at deploy time, and what blocks a deploy."""
        ...

    def machine_warnings(self, spec: StackSpec, providers: Mapping[str, Any]) -> list[str]:
        """Facts of this machine worth a warning at deploy time (ports taken...)."""
        ...

    def deploy_time_notes(self, settings: Settings) -> list[str]:
        """What `render` and plain `check` leave to deploy time, so their output is the same anywhere."""
        ...

    def notes(self, settings: Settings) -> list[str]:
        """Warnings about this target's settings that are not errors (printed by `render` and `check`)."""
        ...


class _Quiet:
    """No machine fact, warning or note: what a target has unless it says otherwise."""

    def machine_facts(self, settings: Settings, providers: Mapping[str, Any]) -> tuple[Settings, list[str]]:
        return settings, []

    def machine_warnings(self, spec: StackSpec, providers: Mapping[str, Any]) -> list[str]:
        return []

    def deploy_time_notes(self, settings: Settings) -> list[str]:
        return []

    def notes(self, settings: Settings) -> list[str]:
        return []


@dataclass(frozen=True)
class _Selected(_Quiet):
    """Deployed when `friday:target` names it; rendered exactly then."""

    name: str

    def deployed(self, settings: Settings) -> bool:
        return settings.target == self.name

    def rendered(self, settings: Settings) -> bool:
        return self.deployed(settings)


@dataclass(frozen=True)
class DockerTarget(_Selected):
    """One Docker host: infra/targets/docker_map.py (policy) -> docker_plan.py -> docker.py (Pulumi)."""

    name: str = "docker"
    placements: Mapping[str, placement.Placement] = field(default_factory=lambda: placement.DOCKER)

    def plan(self, settings: Settings, spec: StackSpec) -> dict[str, str]:
        policy = docker_map.policy(settings)
        out = {}
        for service in spec.long_running():
            container = dataclasses.asdict(docker_map.container(spec, service, policy))
            out[f"docker/{service.name}.json"] = json.dumps(container, indent=2, sort_keys=True) + "\n"
        return out

    def machine_facts(self, settings: Settings, providers: Mapping[str, Any]) -> tuple[Settings, list[str]]:
        return host_checks.resolve_socket_gid(settings, providers)

    def machine_warnings(self, spec: StackSpec, providers: Mapping[str, Any]) -> list[str]:
        return host_checks.ports_in_use(spec) if host_checks.docker_is_local(providers) else []

    def deploy_time_notes(self, settings: Settings) -> list[str]:
        return host_checks.deploy_time_notes(settings)


@dataclass(frozen=True)
class KubernetesTarget(_Selected):
    """A cluster: infra/targets/kubernetes_map/ (every object as a dict) -> kubernetes.py (Pulumi)."""

    name: str = "kubernetes"
    placements: Mapping[str, placement.Placement] = field(default_factory=lambda: placement.KUBERNETES)

    def plan(self, settings: Settings, spec: StackSpec) -> dict[str, str]:
        return kubernetes_manifests.produce(settings, spec)

    def notes(self, settings: Settings) -> list[str]:
        return cluster_sizing.notes(settings)


@dataclass(frozen=True)
class BareMetalTarget(_Quiet):
    """A Debian host with systemd (infra/host/): rendered for every stack, installed by the operator
    (or tests/support/local_host.py), never by `pulumi up`."""

    name: str = "baremetal"
    placements: Mapping[str, placement.Placement] = field(default_factory=lambda: placement.BAREMETAL)

    def deployed(self, settings: Settings) -> bool:
        return False

    def rendered(self, settings: Settings) -> bool:
        return True

    def plan(self, settings: Settings, spec: StackSpec) -> dict[str, str]:
        out: dict[str, str] = {}
        for produce in (
            host_backup.produce,
            host_artefacts.produce,
            host_prometheus.produce,
            host_metrics_auth.produce,
        ):
            for rel, content in produce(settings, spec).items():
                if rel in out:
                    raise AssertionError(f"two bare-metal producers write {rel}")
                out[rel] = content
        return out


DOCKER = DockerTarget()
KUBERNETES = KubernetesTarget()
BAREMETAL = BareMetalTarget()
TARGETS: tuple[Target, ...] = (DOCKER, KUBERNETES, BAREMETAL)
BY_NAME: dict[str, Target] = {t.name: t for t in TARGETS}


def deployed(settings: Settings) -> Target:
    """The target `pulumi up` of this stack deploys (exactly one: `friday:target` is validated)."""
    [target] = [t for t in TARGETS if t.deployed(settings)]
    return target


def rendered(settings: Settings) -> list[Target]:
    """The targets whose files `render` of this stack writes, in registry order."""
    return [t for t in TARGETS if t.rendered(settings)]
