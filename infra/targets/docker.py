"""Docker target: turns a StackSpec into pulumi-docker resources on one host.

Generic over services: a service added to the stack data needs no change here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

import pulumi
import pulumi_docker as docker

from infra.stack.spec import ConfigFile, SecretRef, Service, StackSpec, Volume, fill_secrets

SECURITY_OPTS = ["no-new-privileges:true"]


def _labels(spec: StackSpec, service: str) -> list[docker.ContainerLabelArgs]:
    # Alloy and operators select containers by these labels.
    values = {"friday.stack": spec.stack, "friday.environment": spec.environment, "friday.service": service}
    return [docker.ContainerLabelArgs(label=k, value=v) for k, v in values.items()]


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
        secrets: Mapping[str, pulumi.Output[str]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("friday:docker:Stack", name, None, opts)
        self._spec = spec
        self._base = f"{spec.prefix}-{spec.stack}"
        child = pulumi.ResourceOptions(parent=self)

        self.network = docker.Network(
            f"{self._base}-net", name=f"{self._base}", driver="bridge", internal=False, opts=child
        )
        self.images: dict[str, docker.RemoteImage] = {}
        for ref in sorted({s.image.ref for s in spec.services} | {spec.volume_init_image.ref}):
            self.images[ref] = docker.RemoteImage(
                f"{self._base}-image-{_slug(ref)}", name=ref, keep_locally=True, opts=child
            )
        self.volumes: dict[str, docker.Volume] = {}
        self.volume_inits: dict[str, docker.Container] = {}
        for volume in spec.volumes:
            self.volumes[volume.name] = docker.Volume(
                f"{self._base}-{volume.name}",
                name=f"{self._base}-{volume.name}",
                labels=[docker.VolumeLabelArgs(label="friday.purpose", value=volume.purpose)],
                opts=child,
            )
            self.volume_inits[volume.name] = self._volume_init(volume)
        self.containers: dict[str, docker.Container] = {}
        for service in spec.services:
            self.containers[service.name] = self._container(service, secrets)

        self.urls = {
            f"{s.name}/{p.name}": f"{p.scheme}://{_host(p.bind_address)}:{p.host_port}"
            for s in spec.services
            for p in s.ports
        }
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
        image = self.images[self._spec.volume_init_image.ref]
        return docker.Container(
            f"{self._base}-{volume.name}-init",
            name=f"{self._base}-{volume.name}-init",
            image=image.image_id,
            user="0:0",
            command=["chown", f"{volume.owner_uid}:{volume.owner_gid}", "/volume"],
            volumes=[docker.ContainerVolumeArgs(volume_name=self.volumes[volume.name].name, container_path="/volume")],
            network_mode="none",
            capabilities=docker.ContainerCapabilitiesArgs(drops=["ALL"], adds=["CHOWN"]),
            security_opts=SECURITY_OPTS,
            # attach: wait for the chown to finish before the service container starts.
            attach=True,
            must_run=False,
            logs=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.volumes[volume.name]]),
        )

    def _container(self, service: Service, secrets: Mapping[str, pulumi.Output[str]]) -> docker.Container:
        base = self._base
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
        uid, _, gid = service.user.partition(":")
        uploads = (
            [
                docker.ContainerUploadArgs(file=f.path, content=f.content, permissions=f.mode)
                for f in service.files
                if not f.secrets
            ]
            + [
                # A config file with secrets filled in: a secret, readable by the service user only.
                docker.ContainerUploadArgs(
                    file=f.path,
                    content=_filled(f, secrets),
                    permissions="0400",
                    owner=uid,
                    group=gid or uid,
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
                    group=gid or uid,
                )
                for f in service.secret_files
            ]
        )
        hc = service.healthcheck
        return docker.Container(
            f"{base}-{service.name}",
            name=f"{base}-{service.name}",
            hostname=service.name,
            image=self.images[service.image.ref].image_id,
            user=service.user,
            group_adds=[str(g) for g in service.extra_groups] or None,
            command=list(service.command) or None,
            envs=env_list(service, secrets),
            ports=[
                docker.ContainerPortArgs(
                    internal=p.container_port, external=p.host_port, ip=p.bind_address, protocol="tcp"
                )
                for p in service.ports
            ],
            networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=self.network.name, aliases=[service.name])],
            volumes=volumes,
            uploads=uploads,
            healthcheck=docker.ContainerHealthcheckArgs(
                tests=["CMD", *hc.command],
                interval=f"{hc.interval_s}s",
                timeout=f"{hc.timeout_s}s",
                retries=hc.retries,
                start_period=f"{hc.start_period_s}s",
            ),
            memory=service.limits.memory_mb,
            # Swap equal to memory: the limit is a real limit, not memory plus as much swap.
            memory_swap=service.limits.memory_mb,
            cpus=f"{service.limits.cpu_millicores / 1000:g}",
            read_only=service.read_only_root,
            tmpfs=service.tmpfs or None,
            security_opts=SECURITY_OPTS,
            capabilities=docker.ContainerCapabilitiesArgs(drops=["ALL"], adds=list(service.capabilities_add) or None),
            restart=service.restart,
            stop_signal=service.stop_signal,
            stop_timeout=service.stop_grace_s,
            log_driver="json-file",
            log_opts={"max-size": service.log.max_size, "max-file": str(service.log.max_files)},
            labels=_labels(self._spec, service.name),
            # Wait for the healthcheck to pass, so `pulumi up` fails on a container that never gets healthy.
            wait=True,
            wait_timeout=120,
            must_run=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=child_deps),
        )


def _filled(f: ConfigFile, secrets: Mapping[str, pulumi.Output[str]]) -> pulumi.Output[str]:
    keys = [ref.key for ref in f.secrets]
    values = pulumi.Output.all(*[secrets[k] for k in keys])
    filled = values.apply(lambda vs: fill_secrets(f.content, dict(zip(keys, (str(v) for v in vs), strict=True))))
    return pulumi.Output.secret(filled)


def _host(bind_address: str) -> str:
    if bind_address in ("0.0.0.0", "::"):
        return "localhost"
    return f"[{bind_address}]" if ":" in bind_address else bind_address


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "-", text)
