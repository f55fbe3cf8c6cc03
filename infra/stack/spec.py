"""What runs, as plain data: the shapes every target (Docker, Kubernetes, render) consumes.

Nothing here imports Pulumi. A secret appears only as a `SecretRef` (its key); targets
resolve it to a secret Output, `render` to a placeholder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SecretRef:
    """Stands for the value of the secret with this key (see infra.settings.secrets)."""

    key: str


EnvValue = str | SecretRef


@dataclass(frozen=True)
class Image:
    repository: str
    tag: str

    @property
    def ref(self) -> str:
        return f"{self.repository}:{self.tag}"


@dataclass(frozen=True)
class ConfigFile:
    """A file delivered into the container (a Docker upload, a ConfigMap key).

    `secrets` lists secrets whose `<secret:KEY>` placeholders sit in `content`, for a tool that
    cannot read that value from a file of its own (Alertmanager 0.25 has no webhook `url_file`).
    Targets substitute each placeholder with the value escaped as the body of a JSON string (so
    put placeholders inside double quotes) and deliver the file as a secret readable by the
    service user only; `render` writes the placeholders as they are.
    """

    path: str
    content: str
    mode: str = "0444"
    secrets: tuple[SecretRef, ...] = ()

    def __post_init__(self) -> None:
        for ref in self.secrets:
            if secret_placeholder(ref) not in self.content:
                raise AssertionError(f"{self.path}: declares secret {ref.key!r} but has no placeholder for it")


def secret_placeholder(ref: SecretRef) -> str:
    """What stands for a secret inside a templated ConfigFile (same text `render` shows)."""
    return f"<secret:{ref.key}>"


def fill_secrets(content: str, values: dict[str, str]) -> str:
    """Replace each `<secret:KEY>` placeholder by its value, JSON-string escaped."""
    for key, value in values.items():
        content = content.replace(secret_placeholder(SecretRef(key)), json.dumps(value)[1:-1])
    return content


@dataclass(frozen=True)
class SecretFile:
    """A file whose whole content is one secret (Docker upload, Kubernetes Secret key)."""

    path: str
    secret: SecretRef
    mode: str = "0400"


@dataclass(frozen=True)
class Volume:
    """A named persistent volume, owned by the uid/gid of the service that writes it."""

    name: str
    purpose: str
    owner_uid: int
    owner_gid: int
    size_gb: int = 10


@dataclass(frozen=True)
class Mount:
    volume: str
    path: str
    read_only: bool = False


@dataclass(frozen=True)
class HostMount:
    """A host path bind-mounted into the container (Alloy's view of the Docker socket)."""

    host_path: str
    path: str
    read_only: bool = True


@dataclass(frozen=True)
class PublishedPort:
    """A container port reachable from the host at bind_address:host_port."""

    name: str
    container_port: int
    host_port: int
    bind_address: str
    scheme: str = "http"


@dataclass(frozen=True)
class Healthcheck:
    command: tuple[str, ...]
    interval_s: int = 30
    timeout_s: int = 5
    retries: int = 3
    start_period_s: int = 20


@dataclass(frozen=True)
class Limits:
    memory_mb: int
    cpu_millicores: int


@dataclass(frozen=True)
class LogOptions:
    """Docker json-file rotation: size of one file and files kept."""

    max_size: str
    max_files: int


@dataclass(frozen=True)
class Service:
    name: str
    image: Image
    user: str
    limits: Limits
    healthcheck: Healthcheck
    log: LogOptions
    command: tuple[str, ...] = ()
    env: dict[str, EnvValue] = field(default_factory=dict)
    ports: tuple[PublishedPort, ...] = ()
    internal_ports: tuple[int, ...] = ()
    mounts: tuple[Mount, ...] = ()
    host_mounts: tuple[HostMount, ...] = ()
    # Supplementary group ids (e.g. the Docker socket's group for a non-root Alloy).
    extra_groups: tuple[int, ...] = ()
    # Every ConfigFile and SecretFile lives under config_dir: Docker cannot upload into a
    # read-only root filesystem, so targets back this directory with a volume or ConfigMap.
    config_dir: str | None = None
    files: tuple[ConfigFile, ...] = ()
    secret_files: tuple[SecretFile, ...] = ()
    read_only_root: bool = True
    tmpfs: dict[str, str] = field(default_factory=dict)
    # Every capability is dropped; these few are kept (only where an image cannot start without).
    capabilities_add: tuple[str, ...] = ()
    # Services that must be running (and healthy, where targets can wait) before this one starts.
    depends_on: tuple[str, ...] = ()
    restart: str = "unless-stopped"
    stop_signal: str = "SIGTERM"
    stop_grace_s: int = 30

    def secret_refs(self) -> set[str]:
        keys = {v.key for v in self.env.values() if isinstance(v, SecretRef)}
        keys |= {ref.key for f in self.files for ref in f.secrets}
        return keys | {f.secret.key for f in self.secret_files}


@dataclass(frozen=True)
class StackSpec:
    """Everything one stack runs."""

    stack: str
    environment: str
    prefix: str
    services: tuple[Service, ...]
    volumes: tuple[Volume, ...]
    # Docker only: the one-shot container that hands each data volume to its owner.
    volume_init_image: Image

    def service(self, name: str) -> Service:
        for s in self.services:
            if s.name == name:
                return s
        raise KeyError(f"stack {self.stack!r} has no service {name!r}")

    def secret_keys(self) -> set[str]:
        keys: set[str] = set()
        for s in self.services:
            keys |= s.secret_refs()
        return keys
