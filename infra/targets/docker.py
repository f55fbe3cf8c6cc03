"""Docker target: turns a StackSpec into pulumi-docker resources on one host.

Generic over services: a service added to the stack data needs no change here. What is created,
with which settings and in which order is the pure plan of infra/targets/docker_plan.py (the
engine suite runs the same plan on a real engine); this module only adds what needs Pulumi:
secret Outputs and resource dependencies.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

import pulumi
import pulumi_docker as docker

from infra.stack.spec import SecretRef, StackSpec
from infra.targets import docker_map, docker_plan
from infra.targets.docker_plan import OneShot, ServiceContainer, Upload


def _assign(key: str, value: str) -> str:
    return f"{key}={value}"


def env_list(step: ServiceContainer, secrets: Mapping[str, pulumi.Output[str]]) -> pulumi.Output[list[str]]:
    """`KEY=value` strings; a secret Output when any value is a secret."""
    items: list[pulumi.Input[str]] = []
    for key, value in sorted(step.env.items()):
        if isinstance(value, SecretRef):
            items.append(secrets[value.key].apply(functools.partial(_assign, key)))
        else:
            items.append(f"{key}={value}")
    combined = pulumi.Output.all(*items).apply(lambda xs: [str(x) for x in xs])
    return pulumi.Output.secret(combined) if any(isinstance(v, SecretRef) for v in step.env.values()) else combined


def _content(upload: Upload, secrets: Mapping[str, pulumi.Output[str]]) -> pulumi.Output[str]:
    """The upload's content; a secret Output when it holds any secret."""
    if not upload.secret:
        return pulumi.Output.from_input(upload.resolve({}))
    keys = [upload.content.key] if isinstance(upload.content, SecretRef) else [r.key for r in upload.fills]
    values = pulumi.Output.all(*[secrets[k] for k in keys])
    return pulumi.Output.secret(values.apply(lambda vs: upload.resolve(dict(zip(keys, map(str, vs), strict=True)))))


def _digest(pairs: list[tuple[Upload, str]]) -> str:
    return docker_plan.config_digest(pairs)


class DockerStack(pulumi.ComponentResource):
    """All containers, volumes, images and the network of one stack on a Docker host."""

    def __init__(
        self,
        name: str,
        spec: StackSpec,
        policy: docker_map.DockerPolicy,
        secrets: Mapping[str, pulumi.Output[str]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("friday:docker:Stack", name, None, opts)
        self.plan = docker_plan.plan(spec, policy)
        self._secrets = secrets
        base = docker_map.base_name(spec)
        child = pulumi.ResourceOptions(parent=self)

        self.network = docker.Network(
            f"{base}-net", name=self.plan.network, driver="bridge", internal=False, opts=child
        )
        self.images: dict[str, docker.RemoteImage] = {
            ref: docker.RemoteImage(f"{base}-image-{_slug(ref)}", name=ref, keep_locally=True, opts=child)
            for ref in self.plan.images()
        }
        self._by_volume_name: dict[str, docker.Volume] = {
            volume.name: docker.Volume(
                volume.name,
                name=volume.name,
                labels=[docker.VolumeLabelArgs(label=k, value=v) for k, v in volume.labels.items()],
                # Data survives `pulumi destroy` and a replacement: destroy stops on a protected
                # volume, and once unprotected Pulumi only forgets it (docs/deployment.md says how
                # to really delete one). Config volumes are written again on every `up`.
                opts=pulumi.ResourceOptions(parent=self, protect=volume.data, retain_on_delete=volume.data),
            )
            for volume in self.plan.volumes
        }
        # Keyed as the stack output shows them: the volume name without the stack's prefix.
        self.volumes = {name.removeprefix(f"{base}-"): v for name, v in self._by_volume_name.items()}
        # What each volume holds: an output, not a label (labels of a volume force its replacement).
        self.volume_purposes = {v.name.removeprefix(f"{base}-"): v.purpose for v in self.plan.volumes}
        self._done: dict[str, docker.Container] = {}
        self._delivered: dict[str, pulumi.Output[str]] = {}
        self.containers: dict[str, docker.Container] = {}
        for step in self.plan.steps:
            if isinstance(step, OneShot):
                self._done[step.name] = self._one_shot(step)
            else:
                self._done[step.name] = self.containers[step.service] = self._service(step)

        self.urls = docker_map.urls(spec)
        self.register_outputs(
            {
                "network": self.network.name,
                "containers": {n: c.name for n, c in self.containers.items()},
                "volumes": {n: v.name for n, v in self.volumes.items()},
                "volumePurposes": self.volume_purposes,
                "urls": self.urls,
            }
        )

    def _mounts(self, mounts: tuple[docker_plan.VolumeMount, ...]) -> list[docker.ContainerVolumeArgs]:
        return [
            docker.ContainerVolumeArgs(
                volume_name=self._by_volume_name[m.volume].name, container_path=m.path, read_only=m.read_only
            )
            for m in mounts
        ]

    def _one_shot(self, step: OneShot) -> docker.Container:
        contents = [(u, _content(u, self._secrets)) for u in step.uploads]
        if step.uploads:
            pairs = pulumi.Output.all(*[c for _, c in contents]).apply(
                lambda cs: _digest([(u, str(c)) for (u, _), c in zip(contents, cs, strict=True)])
            )
            self._delivered[step.name] = pulumi.Output.secret(pairs) if any(u.secret for u in step.uploads) else pairs
        return docker.Container(
            step.name,
            name=step.name,
            image=self.images[step.image].image_id,
            user=step.user,
            command=list(step.command),
            volumes=self._mounts(step.mounts),
            uploads=[
                # No owner: the provider's tar sets none (docs/engine-test.md); the step's command
                # gives files their owner.
                docker.ContainerUploadArgs(file=u.file, content=c, permissions=u.permissions)
                for u, c in contents
            ]
            or None,
            read_only=step.read_only,
            network_mode=step.network_mode,
            capabilities=docker.ContainerCapabilitiesArgs(drops=["ALL"], adds=list(step.capability_adds) or None),
            security_opts=list(step.security_opts),
            labels=[docker.ContainerLabelArgs(label=k, value=v) for k, v in step.labels.items()] or None,
            # attach: the provider waits for it to exit before dependent containers are created.
            attach=True,
            must_run=False,
            logs=True,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[self._by_volume_name[m.volume] for m in step.mounts],
                # Fixed names: the old container must go before its replacement is created.
                delete_before_replace=True,
            ),
        )

    def _service(self, step: ServiceContainer) -> docker.Container:
        c = step.settings
        labels: list[pulumi.Input[docker.ContainerLabelArgs]] = [
            docker.ContainerLabelArgs(label=k, value=v) for k, v in c.labels.items()
        ]
        if step.config_init:
            labels.append(
                docker.ContainerLabelArgs(
                    label=docker_plan.CONFIG_DIGEST_LABEL, value=self._delivered[step.config_init]
                )
            )
        hc = c.healthcheck
        return docker.Container(
            c.name,
            name=c.name,
            hostname=c.hostname,
            image=self.images[c.image].image_id,
            user=c.user,
            group_adds=list(c.group_adds) or None,
            command=list(c.command) or None,
            envs=env_list(step, self._secrets),
            ports=[
                docker.ContainerPortArgs(internal=p.internal, external=p.external, ip=p.ip, protocol="tcp")
                for p in c.ports
            ],
            networks_advanced=[
                docker.ContainerNetworksAdvancedArgs(name=self.network.name, aliases=list(step.aliases))
            ],
            volumes=self._mounts(step.mounts)
            + [
                docker.ContainerVolumeArgs(host_path=b.host_path, container_path=b.path, read_only=b.read_only)
                for b in step.binds
            ],
            healthcheck=docker.ContainerHealthcheckArgs(
                tests=list(hc.tests),
                interval=hc.interval,
                timeout=hc.timeout,
                retries=hc.retries,
                start_period=hc.start_period,
            ),
            memory=c.memory_mb,
            memory_swap=c.memory_swap_mb,
            cpus=c.cpus,
            read_only=c.read_only,
            tmpfs=c.tmpfs or None,
            security_opts=list(step.security_opts),
            capabilities=docker.ContainerCapabilitiesArgs(drops=["ALL"], adds=list(c.capability_adds) or None),
            restart=c.restart,
            stop_signal=c.stop_signal,
            stop_timeout=c.stop_timeout_s,
            # The provider's stop before it removes a container it replaces or destroys (0 s unset).
            destroy_grace_seconds=c.stop_timeout_s,
            log_driver=c.log_driver,
            log_opts=c.log_opts,
            labels=labels,
            # Wait for the healthcheck to pass, so `pulumi up` fails on a container that never gets healthy.
            wait=True,
            wait_timeout=docker_map.WAIT_TIMEOUT_S,
            must_run=True,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[
                    *(self._done[name] for name in step.after),
                    *(self._by_volume_name[m.volume] for m in step.mounts),
                ],
                delete_before_replace=True,
            ),
        )


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "-", text)
