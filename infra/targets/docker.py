"""Docker target: turns a StackSpec into pulumi-docker resources on one host.

Generic over services: a service added to the stack data needs no change here. What each
container looks like is decided by the pure mapping in infra/targets/docker_map.py; this module
only adds what needs Pulumi (secret Outputs, resource ordering).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

import pulumi
import pulumi_docker as docker

from infra.stack.spec import ConfigFile, SecretRef, Service, StackSpec, Volume, fill_secrets
from infra.targets import docker_map
from infra.targets.docker_map import DockerPolicy


def _assign(key: str, value: str) -> str:
    return f"{key}={value}"


def env_list(service: Service, secrets: Mapping[str, pulumi.Output[str]]) -> pulumi.Output[list[str]]:
    """`KEY=value` strings; a secret Output when any value is a secret."""
    items: list[pulumi.Input[str]] = []
    for key, value in sorted(service.env.items()):
        if isinstance(value, SecretRef):
            items.append(secrets[value.key].apply(functools.partial(_assign, key)))
        else:
            items.append(f"{key}={value}")
    combined = pulumi.Output.all(*items).apply(lambda xs: [str(x) for x in xs])
    return pulumi.Output.secret(combined) if service.secret_refs() else combined


class DockerStack(pulumi.ComponentResource):
    """All containers, volumes, images and the network of one stack on a Docker host."""

    def __init__(
        self,
        name: str,
        spec: StackSpec,
        policy: DockerPolicy,
        secrets: Mapping[str, pulumi.Output[str]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("friday:docker:Stack", name, None, opts)
        self._spec = spec
        self._policy = policy
        self._base = docker_map.base_name(spec)
        child = pulumi.ResourceOptions(parent=self)

        self.network = docker.Network(
            f"{self._base}-net", name=f"{self._base}", driver="bridge", internal=False, opts=child
        )
        self.images: dict[str, docker.RemoteImage] = {}
        # Docker has no scheduler: a scheduled task runs as its resident, long-running form.
        services = spec.long_running()
        for ref in sorted({s.image.ref for s in services} | {policy.volume_init_image.ref}):
            self.images[ref] = docker.RemoteImage(
                f"{self._base}-image-{_slug(ref)}", name=ref, keep_locally=True, opts=child
            )
        self.volumes: dict[str, docker.Volume] = {}
        self.volume_inits: dict[str, docker.Container] = {}
        for volume in spec.volumes:
            self.volumes[volume.name] = docker.Volume(
                f"{self._base}-{volume.name}",
                name=f"{self._base}-{volume.name}",
                labels=[docker.VolumeLabelArgs(label=docker_map.PURPOSE_LABEL, value=volume.purpose)],
                opts=child,
            )
            self.volume_inits[volume.name] = self._volume_init(volume)
        self.containers: dict[str, docker.Container] = {}
        for service in services:
            self.containers[service.name] = self._container(service, secrets)

        self.urls = docker_map.urls(spec)
        self.register_outputs(
            {
                "network": self.network.name,
                "containers": {n: c.name for n, c in self.containers.items()},
                "volumes": {n: v.name for n, v in self.volumes.items()},
                "urls": self.urls,
            }
        )

    def _volume_init(self, volume: Volume) -> docker.Container:
        """Run once as root with only CAP_CHOWN to give a fresh volume to its non-root owner."""
        image = self.images[self._policy.volume_init_image.ref]
        return docker.Container(
            f"{self._base}-{volume.name}-init",
            name=f"{self._base}-{volume.name}-init",
            image=image.image_id,
            user="0:0",
            command=["chown", f"{volume.owner_uid}:{volume.owner_gid}", "/volume"],
            volumes=[docker.ContainerVolumeArgs(volume_name=self.volumes[volume.name].name, container_path="/volume")],
            network_mode="none",
            capabilities=docker.ContainerCapabilitiesArgs(drops=["ALL"], adds=["CHOWN"]),
            security_opts=list(docker_map.SECURITY_OPTS),
            # attach: wait for the chown to finish before the service container starts.
            attach=True,
            must_run=False,
            logs=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.volumes[volume.name]]),
        )

    def _container(self, service: Service, secrets: Mapping[str, pulumi.Output[str]]) -> docker.Container:
        base = self._base
        plan = docker_map.container(self._spec, service, self._policy)
        child_deps: list[pulumi.Resource] = []
        volumes = []
        for mount in service.mounts:
            volumes.append(
                docker.ContainerVolumeArgs(
                    volume_name=self.volumes[mount.volume].name,
                    container_path=mount.path,
                    read_only=mount.read_only,
                )
            )
            child_deps.append(self.volume_inits[mount.volume])
        for host_mount in service.host_mounts:
            volumes.append(
                docker.ContainerVolumeArgs(
                    host_path=host_mount.host_path,
                    container_path=host_mount.path,
                    read_only=host_mount.read_only,
                )
            )
        if service.config_dir and (service.files or service.secret_files):
            # Docker refuses uploads into a read-only root filesystem but accepts them into a volume.
            config_volume = docker.Volume(
                f"{base}-{service.name}-config",
                name=f"{base}-{service.name}-config",
                opts=pulumi.ResourceOptions(parent=self),
            )
            volumes.append(
                docker.ContainerVolumeArgs(volume_name=config_volume.name, container_path=service.config_dir)
            )
        # Containers are created in stack order, so a dependency is already declared here.
        child_deps.extend(self.containers[name] for name in service.depends_on)
        uid, gid = str(service.uid), str(service.gid)
        uploads = (
            [
                docker.ContainerUploadArgs(file=f.path, content=f.content, permissions=f.mode)
                for f in service.files
                if not f.secrets
            ]
            + [
                # A config file with secrets filled in: a secret, readable by the service user only.
                docker.ContainerUploadArgs(
                    file=f.path, content=_filled(f, secrets), permissions="0400", owner=uid, group=gid
                )
                for f in service.files
                if f.secrets
            ]
            + [
                docker.ContainerUploadArgs(
                    file=f.path,
                    content=pulumi.Output.secret(secrets[f.secret.key]),
                    permissions=f.mode,
                    owner=uid,
                    group=gid,
                )
                for f in service.secret_files
            ]
        )
        hc = plan.healthcheck
        return docker.Container(
            f"{base}-{service.name}",
            name=plan.name,
            hostname=plan.hostname,
            image=self.images[plan.image].image_id,
            user=plan.user,
            group_adds=list(plan.group_adds) or None,
            command=list(plan.command) or None,
            envs=env_list(service, secrets),
            ports=[
                docker.ContainerPortArgs(internal=p.internal, external=p.external, ip=p.ip, protocol="tcp")
                for p in plan.ports
            ],
            networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=self.network.name, aliases=[service.name])],
            volumes=volumes,
            uploads=uploads,
            healthcheck=docker.ContainerHealthcheckArgs(
                tests=list(hc.tests),
                interval=hc.interval,
                timeout=hc.timeout,
                retries=hc.retries,
                start_period=hc.start_period,
            ),
            memory=plan.memory_mb,
            memory_swap=plan.memory_swap_mb,
            cpus=plan.cpus,
            read_only=plan.read_only,
            tmpfs=plan.tmpfs or None,
            security_opts=list(docker_map.SECURITY_OPTS),
            capabilities=docker.ContainerCapabilitiesArgs(drops=["ALL"], adds=list(plan.capability_adds) or None),
            restart=plan.restart,
            stop_signal=plan.stop_signal,
            stop_timeout=plan.stop_timeout_s,
            log_driver=plan.log_driver,
            log_opts=plan.log_opts,
            labels=[docker.ContainerLabelArgs(label=k, value=v) for k, v in plan.labels.items()],
            # Wait for the healthcheck to pass, so `pulumi up` fails on a container that never gets healthy.
            wait=True,
            wait_timeout=docker_map.WAIT_TIMEOUT_S,
            must_run=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=child_deps),
        )


def _filled(f: ConfigFile, secrets: Mapping[str, pulumi.Output[str]]) -> pulumi.Output[str]:
    keys = [ref.key for ref in f.secrets]
    values = pulumi.Output.all(*[secrets[k] for k in keys])
    filled = values.apply(lambda vs: fill_secrets(f.content, dict(zip(keys, (str(v) for v in vs), strict=True))))
    return pulumi.Output.secret(filled)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "-", text)
