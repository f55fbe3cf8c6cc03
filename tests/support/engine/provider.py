"""Does on a real Docker engine what the Docker provider does with the target's plan.

pulumi-docker's Container resource is bridged from the Terraform Docker provider; its create
function (internal/provider/resource_docker_container_funcs.go, resourceDockerContainerCreate)
is mirrored here step by step, because that order and those API calls are what decide whether
the plan works:

1. ContainerCreate with the container and host config (volumes as binds `name:path:rw|ro`,
   tmpfs, capabilities, security options, memory in MB times 1024², cpus as NanoCPUs, ...);
2. with `networks_advanced`: disconnect from the default `bridge` network, then connect to
   each listed network with its aliases;
3. for each `uploads` entry: a tar archive holding one file, named by its full path, with the
   entry's mode and no owner (uid/gid 0: the 4.x provider's tar header sets none), extracted by
   `PUT /containers/{id}/archive?path=/` (CopyToContainer to "/"): always at `/`;
4. ContainerStart; then with `attach` wait for the container to exit, with `wait` poll until
   its health is `healthy`, bounded by `wait_timeout`.

Its delete function (resourceDockerContainerDelete), what a replacement (delete-before-replace,
fixed names) and `pulumi destroy` run, is mirrored by `Provider.delete_service`: unless `attach`,
ContainerStop with `destroy_grace_seconds` as the timeout (0 when unset: the engine sends the stop
signal and kills at once), then ContainerRemove with force, then wait until it is gone.

The suite sends exactly the plan's values; what it changes is listed in `Deviations`.
"""

from __future__ import annotations

import io
import tarfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import docker
from docker.models.containers import Container as EngineContainer

from infra.stack.spec import SecretRef
from infra.targets import docker_map
from infra.targets.docker_plan import (
    CONFIG_DIGEST_LABEL,
    BindMount,
    OneShot,
    ServiceContainer,
    Upload,
    VolumeMount,
    config_digest,
)

RUN_LABEL = "friday.engine-run"
# Every name of a run starts with this prefix and the run id (the stacks' namePrefix).
NAME_PREFIX = "fe"
ONE_SHOT_TIMEOUT_S = 60
NANO = 1_000_000_000


@dataclass(frozen=True)
class Deviations:
    """What the suite changes in the plan's requests, and nothing else."""

    # Upstream repository -> the engine's image (tests/support/engine/images.py).
    images: Mapping[str, str]
    # Added to every container, volume and network: which run made it (cleanup finds them by it).
    run_id: str

    def image(self, ref: str) -> str:
        repository = ref.rsplit(":", 1)[0]
        if repository not in self.images:
            raise AssertionError(f"no engine image for {ref}")
        return self.images[repository]


def _seconds(text: str) -> int:
    assert text.endswith("s"), text
    return int(float(text[:-1]) * NANO)


def archive(upload: Upload, content: str) -> bytes:
    """The provider's one-file tar: the member is named by the file's full path, and its header
    holds what the provider's sets (name, mode, size, mtime) and nothing else: uid and gid 0 and
    no user or group name, as Go's tar.Header leaves them unset (`upload.owner` is not sent)."""
    data = content.encode()
    info = tarfile.TarInfo(upload.file)
    info.size = len(data)
    info.mode = int(upload.permissions, 8)
    info.uid, info.gid, info.uname, info.gname = 0, 0, "", ""
    info.mtime = int(time.time())
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _binds(mounts: tuple[VolumeMount, ...], binds: tuple[BindMount, ...] = ()) -> list[str]:
    out = [f"{m.volume}:{m.path}:{'ro' if m.read_only else 'rw'}" for m in mounts]
    out += [f"{b.host_path}:{b.path}:{'ro' if b.read_only else 'rw'}" for b in binds]
    return out


class Provider:
    def __init__(self, client: docker.DockerClient, deviations: Deviations) -> None:
        self.client = client
        self.api = client.api
        self.dev = deviations

    def labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        return {**labels, RUN_LABEL: self.dev.run_id}

    def network(self, name: str) -> None:
        self.client.networks.create(name, driver="bridge", internal=False, labels=self.labels({}))

    def volume(self, name: str, labels: Mapping[str, str]) -> None:
        self.client.volumes.create(name, labels=self.labels(labels))

    def upload(self, container_id: str, upload: Upload, secrets: Mapping[str, str]) -> None:
        content = upload.resolve(dict(secrets))
        if not self.api.put_archive(container_id, "/", archive(upload, content)):
            raise RuntimeError(f"upload of {upload.file} refused")

    def create_one_shot(self, step: OneShot) -> str:
        host_config = self.api.create_host_config(
            binds=_binds(step.mounts),
            network_mode=step.network_mode,
            read_only=step.read_only,
            cap_drop=["ALL"],
            cap_add=list(step.capability_adds) or None,
            security_opt=list(step.security_opts),
            init=False,
        )
        created = self.api.create_container(
            self.dev.image(step.image),
            command=list(step.command),
            user=step.user,
            name=step.name,
            labels=self.labels(step.labels),
            host_config=host_config,
        )
        return str(created["Id"])

    def run_one_shot(self, step: OneShot, secrets: Mapping[str, str]) -> int:
        """Create, upload, start, wait for the exit (attach); returns the exit code."""
        container_id = self.create_one_shot(step)
        for upload in step.uploads:
            self.upload(container_id, upload, secrets)
        self.api.start(container_id)
        result = self.api.wait(container_id, timeout=ONE_SHOT_TIMEOUT_S)
        return int(result["StatusCode"])

    def env(self, step: ServiceContainer, secrets: Mapping[str, str]) -> list[str]:
        values = {k: secrets[v.key] if isinstance(v, SecretRef) else v for k, v in step.env.items()}
        return [f"{k}={v}" for k, v in sorted(values.items())]

    def create_service(
        self, step: ServiceContainer, secrets: Mapping[str, str], delivered: list[tuple[Upload, str]] | None
    ) -> str:
        c = step.settings
        labels = dict(c.labels)
        if delivered is not None:
            labels[CONFIG_DIGEST_LABEL] = config_digest(delivered)
        hc = c.healthcheck
        host_config = self.api.create_host_config(
            binds=_binds(step.mounts, step.binds),
            port_bindings={f"{p.internal}/tcp": [(p.ip, p.external)] for p in c.ports},
            read_only=c.read_only,
            tmpfs=dict(c.tmpfs),
            security_opt=list(step.security_opts),
            cap_drop=["ALL"],
            cap_add=list(c.capability_adds) or None,
            restart_policy={"Name": c.restart},
            mem_limit=c.memory_mb * 1024 * 1024,
            memswap_limit=c.memory_swap_mb * 1024 * 1024,
            nano_cpus=int(float(c.cpus) * NANO),
            log_config={"Type": c.log_driver, "Config": dict(c.log_opts)},
            group_add=list(c.group_adds) or None,
            init=False,
        )
        created = self.api.create_container(
            self.dev.image(c.image),
            command=list(c.command) or None,
            hostname=c.hostname,
            user=c.user,
            environment=self.env(step, secrets),
            ports=[(p.internal, "tcp") for p in c.ports],
            labels=self.labels(labels),
            healthcheck={
                "test": list(hc.tests),
                "interval": _seconds(hc.interval),
                "timeout": _seconds(hc.timeout),
                "retries": hc.retries,
                "start_period": _seconds(hc.start_period),
            },
            stop_signal=c.stop_signal,
            stop_timeout=c.stop_timeout_s,
            name=c.name,
            host_config=host_config,
        )
        container_id = str(created["Id"])
        # networks_advanced: off the default bridge, onto the stack network under the service's aliases.
        self.api.disconnect_container_from_network(container_id, "bridge")
        self.api.connect_container_to_network(container_id, step.network, aliases=list(step.aliases))
        return container_id

    def start_service(self, container_id: str) -> None:
        self.api.start(container_id)

    def stop_service(self, step: ServiceContainer, container_id: str) -> None:
        """The delete function's first half: ContainerStop with `destroy_grace_seconds`, the
        value infra/targets/docker.py gives it (the service's stop grace)."""
        self.api.stop(container_id, timeout=step.settings.stop_timeout_s)

    def remove_service(self, container_id: str) -> None:
        """The second half: ContainerRemove with force (volumes kept), then wait until it is gone."""
        self.api.remove_container(container_id, force=True, v=False)
        deadline = time.monotonic() + ONE_SHOT_TIMEOUT_S
        while time.monotonic() < deadline:
            if not self.client.containers.list(all=True, filters={"id": container_id}):
                return
            time.sleep(0.2)
        raise AssertionError(f"container {container_id} still there after removal")

    def delete_service(self, step: ServiceContainer, container_id: str) -> None:
        self.stop_service(step, container_id)
        self.remove_service(container_id)

    def wait_healthy(self, container_id: str, timeout_s: float = docker_map.WAIT_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        state: dict[str, Any] = {}
        while time.monotonic() < deadline:
            state = self.api.inspect_container(container_id)["State"]
            if state.get("Health", {}).get("Status") == "healthy":
                return
            # A stopped or restarting container will not turn healthy; the provider would wait on.
            if not state.get("Running") or state.get("Restarting"):
                break
            time.sleep(0.5)
        container: EngineContainer = self.client.containers.get(container_id)
        logs = container.logs(tail=30).decode(errors="replace")
        raise AssertionError(f"{container.name} not healthy within {timeout_s:.0f}s: {state}\n--- logs ---\n{logs}")


def run_prefix(run_id: str) -> str:
    return f"{NAME_PREFIX}{run_id}-"


def cleanup(client: docker.DockerClient, run_id: str) -> list[str]:
    """Remove every container, network and volume of one run (by its label, or by its name prefix
    for a volume the engine made on the fly for a mount); returns what was removed."""
    removed: list[str] = []
    selector = {"label": f"{RUN_LABEL}={run_id}"}
    for container in client.containers.list(all=True, filters=selector):
        container.remove(force=True, v=False)
        removed.append(f"container {container.name}")
    for network in client.networks.list(filters=selector):
        network.remove()
        removed.append(f"network {network.name}")
    labelled = {v.name for v in client.volumes.list(filters=selector)}
    for volume in client.volumes.list():
        if volume.name in labelled or volume.name.startswith(run_prefix(run_id)):
            volume.remove(force=True)
            removed.append(f"volume {volume.name}")
    return removed


def stale_runs(client: docker.DockerClient) -> set[str]:
    """Run ids that still have containers, networks or volumes on the engine."""
    selector = {"label": RUN_LABEL}
    labels = [c.labels for c in client.containers.list(all=True, filters=selector)]
    labels += [n.attrs.get("Labels") or {} for n in client.networks.list(filters=selector)]
    labels += [v.attrs.get("Labels") or {} for v in client.volumes.list(filters=selector)]
    return {str(found[RUN_LABEL]) for found in labels if RUN_LABEL in found}
