"""Docker target: the whole stack as container requests, in creation order (plain data, no Pulumi).

infra/targets/docker.py turns each request into a pulumi-docker resource; the engine suite
(tests/engine) sends the same requests to a real Docker engine in the order the provider does.
Per service, infra/targets/docker_map.py decides the container settings; this module adds the
network, the volumes, the steps that prepare volumes, and the delivery of config files.

Config delivery. The provider's container resource (pulumi-docker's Container, bridged from the
Terraform Docker provider) creates the container, then uploads each `uploads` entry as a
one-file tar archive extracted at `/` of the container (the file's full path inside the
archive), then starts it. The engine refuses any archive extracted at `/` of a container whose
root filesystem is read-only ("container rootfs is marked read-only"), even when the file lands
on a volume. Every service runs with a read-only root, so services get no uploads. Instead:

- each service with config files gets a config volume, mounted read-only at its config_dir;
- a one-shot config-init container, whose root is writable, mounts that volume at the same
  path and carries the uploads: the archives extracted at its `/` land in the volume. Its
  command then deletes every file the stack no longer delivers (a removed file must not linger)
  and it exits; the service starts after it;
- the service container carries a label with a digest of the delivered files, so a changed
  file replaces (restarts) the service, not just the init container.

File owners. The provider's tar header carries the mode from `permissions` and no owner (the
Terraform provider's container code, 4.x, sets none: the engine writes the file as root), so
nothing here relies on the provider for an owner: plain files are root's and world-readable, and
the config-init command itself (root with CAP_CHOWN only) hands each file that holds a secret to
the service's user with mode 0400, after the uploads and before the service starts.
"""

from __future__ import annotations

import hashlib
import shlex
from dataclasses import dataclass, field

from infra.stack.spec import EnvValue, SecretRef, Service, StackSpec, Volume, fill_secrets
from infra.targets import docker_map
from infra.targets.docker_map import Container, DockerPolicy

# Where a volume-init container sees the volume it prepares.
INIT_MOUNT = "/volume"
CONFIG_DIGEST_LABEL = "friday.config-digest"
# Modes the provider writes when an upload names none; ours always name one.
PLAIN_FILE_MODE = "0444"
SECRET_FILE_MODE = "0400"


@dataclass(frozen=True)
class Upload:
    """One `uploads` entry: a file the provider writes into a created, not yet started container.

    `content` is the text (with `<secret:KEY>` placeholders for the keys in `fills`) or, for a
    file that is one secret, that secret's reference.
    """

    file: str
    content: str | SecretRef
    permissions: str
    # The owner the config-init command gives the file (root: left as the engine wrote it).
    owner: int = 0
    group: int = 0
    fills: tuple[SecretRef, ...] = ()

    @property
    def secret(self) -> bool:
        return isinstance(self.content, SecretRef) or bool(self.fills)

    def resolve(self, secrets: dict[str, str]) -> str:
        """The bytes that land in the container, given the secrets' values."""
        if isinstance(self.content, SecretRef):
            return secrets[self.content.key]
        return fill_secrets(self.content, {ref.key: secrets[ref.key] for ref in self.fills})


@dataclass(frozen=True)
class VolumeMount:
    volume: str  # the Docker volume's name
    path: str
    read_only: bool = False


@dataclass(frozen=True)
class BindMount:
    host_path: str
    path: str
    read_only: bool = True


@dataclass(frozen=True)
class VolumeRequest:
    """A Docker volume. Its labels are stable (the provider replaces a volume whose labels change,
    and the engine refuses to remove a volume in use): free text such as `purpose` is no label.

    `data`: it holds a service's data (not files the stack delivers again on every `up`); such a
    volume is protected and kept when Pulumi deletes it (docs/deployment.md).
    """

    name: str
    labels: dict[str, str]
    purpose: str
    data: bool


@dataclass(frozen=True)
class OneShot:
    """A container that runs to completion before the containers that depend on it are created.

    The provider starts it, waits for it to exit (attach) and does not require it to keep running.
    """

    name: str
    image: str
    user: str
    command: tuple[str, ...]
    mounts: tuple[VolumeMount, ...]
    read_only: bool
    capability_adds: tuple[str, ...] = ()
    uploads: tuple[Upload, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    network_mode: str = "none"
    security_opts: tuple[str, ...] = docker_map.SECURITY_OPTS


@dataclass(frozen=True)
class ServiceContainer:
    """A long-running service: created, started and waited for until healthy."""

    service: str
    settings: Container
    env: dict[str, EnvValue]
    network: str
    aliases: tuple[str, ...]
    mounts: tuple[VolumeMount, ...]
    binds: tuple[BindMount, ...]
    # Names (of OneShot or ServiceContainer steps) that must be done or healthy first.
    after: tuple[str, ...]
    # The OneShot that delivers this service's config files (their digest becomes a label).
    config_init: str | None = None
    security_opts: tuple[str, ...] = docker_map.SECURITY_OPTS

    @property
    def name(self) -> str:
        return self.settings.name


Step = OneShot | ServiceContainer


@dataclass(frozen=True)
class DockerPlan:
    network: str
    volumes: tuple[VolumeRequest, ...]
    # Creation order: every step comes after the steps it names in `after`.
    steps: tuple[Step, ...]

    def step(self, name: str) -> Step:
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(f"no step named {name!r}")

    def service(self, name: str) -> ServiceContainer:
        for s in self.steps:
            if isinstance(s, ServiceContainer) and s.service == name:
                return s
        raise KeyError(f"no service {name!r} in the plan")

    def images(self) -> tuple[str, ...]:
        refs = {s.image if isinstance(s, OneShot) else s.settings.image for s in self.steps}
        return tuple(sorted(refs))


def config_digest(files: list[tuple[Upload, str]]) -> str:
    """Digest of delivered files (each with its resolved content): changes when any file does."""
    h = hashlib.sha256()
    for upload, content in sorted(files, key=lambda pair: pair[0].file):
        for part in (upload.file, upload.permissions, str(upload.owner), str(upload.group), content):
            h.update(part.encode())
            h.update(b"\0")
    return h.hexdigest()


def uploads(service: Service) -> tuple[Upload, ...]:
    """The service's config files as uploads: plain files world-readable and root-owned, files
    holding secrets readable by the service user only."""
    owner, group = service.uid, service.gid
    out = []
    for f in service.files:
        if f.secrets:
            out.append(Upload(f.path, f.content, SECRET_FILE_MODE, owner, group, fills=f.secrets))
        else:
            out.append(Upload(f.path, f.content, f.mode))
    out += [Upload(f.path, f.secret, f.mode, owner, group) for f in service.secret_files]
    return tuple(out)


def prune_command(config_dir: str, keep: tuple[str, ...]) -> tuple[str, ...]:
    """Delete every file under config_dir but the ones delivered now (find, as in busybox and GNU)."""
    for path in keep:
        if any(c in path for c in "*?[]\\"):
            raise AssertionError(f"{path}: a delivered path must not hold glob characters")
    excluded: list[str] = []
    for path in sorted(keep):
        excluded += ["!", "-path", path]
    return ("find", config_dir, "-mindepth", "1", "-type", "f", *excluded, "-delete")


def deliver_command(config_dir: str, files: tuple[Upload, ...]) -> tuple[str, ...]:
    """The config-init command: prune, then give each file with an owner to that owner (chmod and
    chown, in `sh` as in busybox and Debian). Only prune when every file stays root's."""
    prune = prune_command(config_dir, tuple(u.file for u in files))
    owned = sorted((u for u in files if (u.owner, u.group) != (0, 0)), key=lambda u: u.file)
    if not owned:
        return prune
    steps = [shlex.join(prune)]
    for u in owned:
        # chmod while root owns it (no CAP_FOWNER), then chown (CAP_CHOWN).
        steps.append(shlex.join(("chmod", u.permissions, u.file)))
        steps.append(shlex.join(("chown", f"{u.owner}:{u.group}", u.file)))
    return ("sh", "-c", " && ".join(steps))


def _volume_name(base: str, volume: str) -> str:
    return f"{base}-{volume}"


def volume_init(base: str, volume: Volume, image: str) -> OneShot:
    """Run once as root with only CAP_CHOWN to give a fresh volume to its non-root owner."""
    return OneShot(
        name=f"{base}-{volume.name}-init",
        image=image,
        user="0:0",
        command=("chown", f"{volume.owner_uid}:{volume.owner_gid}", INIT_MOUNT),
        mounts=(VolumeMount(_volume_name(base, volume.name), INIT_MOUNT),),
        read_only=True,
        capability_adds=("CHOWN",),
    )


def config_init(spec: StackSpec, service: Service, image: str) -> tuple[VolumeRequest, OneShot]:
    assert service.config_dir is not None
    base = docker_map.base_name(spec)
    volume = VolumeRequest(
        f"{base}-{service.name}-config",
        docker_map.volume_labels(spec, f"{service.name}-config", data=False),
        f"config files of {service.name} (written by its config-init container)",
        data=False,
    )
    files = uploads(service)
    owned = any((u.owner, u.group) != (0, 0) for u in files)
    step = OneShot(
        name=f"{base}-{service.name}-config-init",
        image=image,
        user="0:0",
        command=deliver_command(service.config_dir, files),
        mounts=(VolumeMount(volume.name, service.config_dir),),
        # Writable on purpose: the engine extracts the uploads at `/` of this container.
        read_only=False,
        # Root without capabilities, but CAP_CHOWN where files change owner.
        capability_adds=("CHOWN",) if owned else (),
        uploads=files,
    )
    return volume, step


def plan(spec: StackSpec, policy: DockerPolicy) -> DockerPlan:
    base = docker_map.base_name(spec)
    init_image = policy.volume_init_image.ref
    volumes = [
        VolumeRequest(
            _volume_name(base, v.name), docker_map.volume_labels(spec, v.name, data=True), v.purpose, data=True
        )
        for v in spec.volumes
    ]
    steps: list[Step] = [volume_init(base, v, init_image) for v in spec.volumes]
    inits = {v.name: f"{base}-{v.name}-init" for v in spec.volumes}
    containers: dict[str, str] = {}
    # Docker has no scheduler: a scheduled task runs as its resident, long-running form.
    for service in spec.long_running():
        settings = docker_map.container(spec, service, policy)
        mounts = [VolumeMount(_volume_name(base, m.volume), m.path, m.read_only) for m in service.mounts]
        after = [inits[m.volume] for m in service.mounts]
        delivered: str | None = None
        if service.files or service.secret_files:
            volume, step = config_init(spec, service, init_image)
            volumes.append(volume)
            steps.append(step)
            mounts.append(VolumeMount(volume.name, step.mounts[0].path, read_only=True))
            after.append(step.name)
            delivered = step.name
        # Services are listed in dependency order (infra/stack/build.py checks it).
        after += [containers[name] for name in service.depends_on]
        steps.append(
            ServiceContainer(
                service=service.name,
                settings=settings,
                env=dict(service.env),
                network=base,
                aliases=(service.name,),
                mounts=tuple(mounts),
                binds=tuple(BindMount(h.host_path, h.path, h.read_only) for h in service.host_mounts),
                after=tuple(after),
                config_init=delivered,
            )
        )
        containers[service.name] = settings.name
    return DockerPlan(network=base, volumes=tuple(volumes), steps=tuple(steps))
