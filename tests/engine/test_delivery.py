"""Config delivery on the engine: why uploads cannot go to the service, and what the init step delivers."""

from __future__ import annotations

import dataclasses

import docker
import pytest

from infra.stack import gateway, prometheus
from infra.targets.docker_plan import OneShot, config_digest
from tests.support.engine.checks import run_in
from tests.support.engine.provider import Provider
from tests.support.engine.stack import RunningStack, runner


def config_init(stack: RunningStack, service: str) -> OneShot:
    step = stack.step(service)
    assert step.config_init is not None
    init = stack.plan.step(step.config_init)
    assert isinstance(init, OneShot)
    return init


def test_uploads_into_the_service_container_are_refused(client: docker.DockerClient, dev_stack: RunningStack) -> None:
    """The approach before config-init containers: the gateway's own container (read-only root) with
    its config volume, receiving the uploads as the provider sends them. The engine refuses."""
    step = dev_stack.step(gateway.NAME)
    uploads = config_init(dev_stack, gateway.NAME).uploads
    old_way = dataclasses.replace(
        step,
        settings=dataclasses.replace(step.settings, name=f"{step.settings.name}-uploads-in-place", ports=()),
        aliases=("uploads-in-place",),
        mounts=tuple(dataclasses.replace(m, read_only=False) for m in step.mounts),
    )
    provider = runner(client, dev_stack).provider
    container_id = provider.create_service(old_way, dev_stack.secrets, None)
    with pytest.raises(docker.errors.APIError, match="read-only"):
        provider.upload(container_id, uploads[0], dev_stack.secrets)
    # The same archive into a container whose root is writable lands in the volume (what config-init does).
    writable = dataclasses.replace(
        old_way,
        settings=dataclasses.replace(old_way.settings, name=f"{step.settings.name}-writable-root", read_only=False),
        aliases=("writable-root",),
    )
    provider.upload(provider.create_service(writable, dev_stack.secrets, None), uploads[0], dev_stack.secrets)


def test_delivered_files_have_the_planned_content_modes_and_owners(
    client: docker.DockerClient, dev_stack: RunningStack
) -> None:
    # Prometheus gets plain files only: the gateway's scrape credential is the metrics-auth
    # container's (an environment variable), not a file of Prometheus.
    init = config_init(dev_stack, prometheus.NAME)
    container_id = dev_stack.containers[prometheus.NAME]
    assert init.uploads and not any(u.secret for u in init.uploads)
    for upload in init.uploads:
        code, out = run_in(client, container_id, "stat", "-c", "%a %u %g", upload.file)
        assert code == 0, out
        assert out.split() == [upload.permissions.lstrip("0"), str(upload.owner), str(upload.group)], upload.file
        code, content = run_in(client, container_id, "cat", upload.file)
        assert code == 0 and content == upload.resolve(dev_stack.secrets), upload.file
    # The service is labelled with the digest of what was delivered (a change replaces it).
    labels = client.api.inspect_container(container_id)["Config"]["Labels"]
    delivered = [(u, u.resolve(dev_stack.secrets)) for u in init.uploads]
    assert labels["friday.config-digest"] == config_digest(delivered)
    code, out = run_in(client, container_id, "touch", f"{init.mounts[0].path}/new-file")
    assert code != 0, "the service mounts its config read-only"


def test_config_init_removes_files_no_longer_delivered(client: docker.DockerClient, dev_stack: RunningStack) -> None:
    init = config_init(dev_stack, gateway.NAME)
    [mount] = init.mounts
    provider: Provider = runner(client, dev_stack).provider
    stale = f"{mount.path}/from-an-older-stack.yaml"
    writer = dataclasses.replace(
        init, name=f"{init.name}-stale-writer", uploads=(), command=("touch", stale), capability_adds=()
    )
    assert provider.run_one_shot(writer, dev_stack.secrets) == 0
    checker = dataclasses.replace(writer, name=f"{init.name}-checker", command=("test", "-e", stale))
    assert provider.run_one_shot(checker, dev_stack.secrets) == 0, "the stale file is there"
    # What `pulumi up` does with a changed init container: delete, then create, upload, start.
    client.containers.get(init.name).remove(force=True)
    assert provider.run_one_shot(init, dev_stack.secrets) == 0
    gone = dataclasses.replace(checker, name=f"{init.name}-checker-after", command=("test", "!", "-e", stale))
    assert provider.run_one_shot(gone, dev_stack.secrets) == 0, "the stale file was removed"
    kept = dataclasses.replace(checker, name=f"{init.name}-checker-kept", command=("test", "-s", gateway.CONFIG_PATH))
    assert provider.run_one_shot(kept, dev_stack.secrets) == 0, "the delivered file is still there"
