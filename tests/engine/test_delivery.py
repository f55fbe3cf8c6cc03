"""Config delivery on the engine: why uploads cannot go to the service, and what the init step delivers."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from collections.abc import Callable

import docker
import pytest

from infra.monitoring.prometheus_config import ALERTMANAGER_PASSWORD_FILE
from infra.stack import gateway, prometheus
from infra.targets.docker_plan import OneShot, ServiceContainer, config_digest
from tests.support.engine.checks import run_in
from tests.support.engine.provider import Provider
from tests.support.engine.stack import RunningStack, runner


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


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
    # Prometheus gets plain files but one: the gateway's scrape credential is the metrics-auth
    # container's (an environment variable), not a file of Prometheus; its one secret file is
    # Alertmanager's web password (0400, its own user's).
    init = config_init(dev_stack, prometheus.NAME)
    container_id = dev_stack.containers[prometheus.NAME]
    assert [u.file for u in init.uploads if u.secret] == [ALERTMANAGER_PASSWORD_FILE]
    for upload in init.uploads:
        code, out = run_in(client, container_id, "stat", "-c", "%a %u %g", upload.file)
        assert code == 0, out
        assert out.split() == [upload.permissions.lstrip("0"), str(upload.owner), str(upload.group)], upload.file
        # A digest, not the content: a long exec output can come back cut short (Docker 20.10).
        code, out = run_in(client, container_id, "sha256sum", upload.file)
        assert code == 0 and out.split()[:1] == [sha256(upload.resolve(dev_stack.secrets))], upload.file
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


def _readable_as_the_service(
    client: docker.DockerClient, stack: RunningStack, step: ServiceContainer, init: OneShot
) -> list[str]:
    """Each delivered file, read as the service's user (uid, gid and added groups) with the
    service's read-only config mount: in the running service itself, or, for a service left out
    here (no Debian binary: Grafana, Loki, Alloy), in a container of the init image with exactly
    that user and mount, after the plan's config-init step delivered the files the provider's way.
    Returns the problems found."""
    problems: list[str] = []
    secrets = stack.secrets
    [mount] = init.mounts
    if step.service in stack.containers:
        container_id = stack.containers[step.service]
        read = functools.partial(run_in, client, container_id)
    else:
        provider = runner(client, stack).provider
        [volume] = [v for v in stack.plan.volumes if v.name == mount.volume]
        provider.volume(volume.name, volume.labels)
        assert provider.run_one_shot(init, secrets) == 0, init.name
        reader = client.containers.create(
            provider.dev.image(init.image),
            command=["sleep", "60"],
            user=step.settings.user,
            group_add=list(step.settings.group_adds) or None,
            volumes={mount.volume: {"bind": mount.path, "mode": "ro"}},
            network_mode="none",
            cap_drop=["ALL"],
            security_opt=list(step.security_opts),
            labels=provider.labels({}),
            name=f"{init.name}-reader",
        )
        reader.start()
        read = functools.partial(run_in, client, str(reader.id))
    try:
        problems += _read_each(read, init, secrets, step)
    finally:
        if step.service not in stack.containers:
            reader.remove(force=True)
    return problems


def _read_each(
    read: Callable[..., tuple[int, str]], init: OneShot, secrets: dict[str, str], step: ServiceContainer
) -> list[str]:
    problems: list[str] = []
    for upload in init.uploads:
        # A digest, not the content: a long exec output can come back cut short (Docker 20.10).
        code, out = read("sha256sum", upload.file, expect_output=True)
        if code != 0 or out.split()[:1] != [sha256(upload.resolve(secrets))]:
            problems.append(f"{step.service}: {upload.file} not readable as {step.settings.user} ({code}: {out[:80]})")
        code, out = read("stat", "-c", "%a %u %g", upload.file, expect_output=True)
        if out.split() != [upload.permissions.lstrip("0"), str(upload.owner), str(upload.group)]:
            problems.append(
                f"{step.service}: {upload.file} is {out.strip()}, "
                f"planned {upload.permissions} {upload.owner} {upload.group}"
            )
        if upload.secret and upload.permissions == "0400":
            # Honest about 0400: another user of the same container cannot read it.
            code, _ = read("cat", upload.file, user="12345:12345")
            if code == 0:
                problems.append(f"{step.service}: {upload.file} readable by another user")
    return problems


@pytest.mark.parametrize("variant", ["dev", "proxy"])
def test_every_service_reads_its_delivered_files(
    client: docker.DockerClient, stacks: dict[str, RunningStack], variant: str
) -> None:
    """Uploads carry no owner (the provider's tar sets none, tests/support/engine/provider.py); the
    config-init step gives the files holding secrets to their service. Every service of the plan,
    those that run here and those left out, reads each of its files as its own user."""
    stack = stacks[variant]
    problems: list[str] = []
    owned = 0
    for step in stack.plan.steps:
        if isinstance(step, ServiceContainer) and step.config_init is not None:
            init = stack.plan.step(step.config_init)
            assert isinstance(init, OneShot)
            owned += sum(1 for u in init.uploads if u.owner != 0)
            problems += _readable_as_the_service(client, stack, step, init)
    assert not problems, "\n".join(problems)
    # The check covers files that change owner (Grafana's secrets; the proxy's TLS key).
    assert owned >= 2, owned
