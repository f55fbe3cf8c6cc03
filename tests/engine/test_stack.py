"""The rendered dev stack on a real engine, with stand-in images (docs/engine-test.md)."""

from __future__ import annotations

import docker

from tests.engine.stack import RunningStack


def test_every_running_service_is_healthy(client: docker.DockerClient, dev_stack: RunningStack) -> None:
    assert dev_stack.skipped == {"grafana", "loki", "alloy"}
    running = {s.name for s in dev_stack.spec.services} - dev_stack.skipped
    assert set(dev_stack.containers) == running
    for service, container_id in dev_stack.containers.items():
        state = client.api.inspect_container(container_id)["State"]
        assert state["Health"]["Status"] == "healthy", service
