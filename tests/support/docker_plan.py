"""What the Docker target makes of a stack's services (the pure mapping, no Pulumi)."""

from __future__ import annotations

from infra.settings import Settings
from infra.stack import build_stack
from infra.targets import docker_map


def container_of(settings: Settings, name: str) -> docker_map.Container:
    spec = build_stack(settings)
    return docker_map.container(spec, spec.service(name), docker_map.policy(settings))
