"""What runs, as plain data: the target-neutral shapes every target (Docker, Kubernetes, bare metal,
render) consumes.

A service says what it needs, not how one platform provides it: named ports and who may reach
them, what to check for health, requests and limits, numeric ids, the kind of workload, scratch
space, how it wants to be stopped. Each target maps these (infra/targets/docker_map.py for Docker:
restart policy, log rotation, tmpfs options, healthcheck commands and stop signals live there).

Nothing here imports Pulumi. A secret appears only as a `SecretRef` (its key); targets resolve it
to a secret Output, `render` to a placeholder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum

from infra.settings.secrets import placeholder


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
    return placeholder(ref.key)


def fill_secrets(content: str, values: dict[str, str]) -> str:
    """Replace each `<secret:KEY>` placeholder by its value, JSON-string escaped."""
    for key, value in values.items():
        content = content.replace(placeholder(key), json.dumps(value)[1:-1])
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
class Scratch:
    """Writable scratch space that is lost on restart (the root filesystem is read-only):
    a tmpfs on Docker, an emptyDir on Kubernetes. Never executable."""

    path: str
    size_mb: int


# The one scratch folder every service gets.
TMP = Scratch("/tmp", 64)


class Reach(Enum):
    """Who may open a connection to a port. Each target realises it its own way."""

    # Other services of the stack only (Docker: the stack network, unpublished; Kubernetes: a
    # ClusterIP Service behind a NetworkPolicy).
    SERVICES = "services"
    # The operator, from the host: published on the address the settings give, loopback unless a
    # setting opens it (Docker: a host port; Kubernetes: port-forward, never an Ingress).
    OPERATOR = "operator"
    # The public, through the reverse proxy: only the proxy's own ports (Kubernetes: an Ingress or
    # LoadBalancer).
    PUBLIC = "public"


@dataclass(frozen=True)
class HostBinding:
    """Where a single-host target (Docker, bare metal) publishes a port: address and host port."""

    address: str
    port: int


@dataclass(frozen=True)
class Port:
    """A port the service listens on, by name; everything else refers to it by that name."""

    name: str
    number: int
    reach: Reach = Reach.SERVICES
    # Required for OPERATOR and PUBLIC ports, absent for SERVICES ports.
    host: HostBinding | None = None
    scheme: str = "http"

    def __post_init__(self) -> None:
        if (self.reach is Reach.SERVICES) != (self.host is None):
            raise AssertionError(f"port {self.name}: reach {self.reach.value} and host binding {self.host} disagree")


@dataclass(frozen=True)
class HttpCheck:
    """Healthy when GET `path` on the named port answers 2xx.

    `fetch` is how a command inside the image fetches a URL (`{url}` stands for it): Docker runs
    health checks inside the container, so it needs a client the image ships; Kubernetes uses an
    httpGet probe and ignores it.
    """

    port: str
    path: str
    fetch: tuple[str, ...]


# Clients images ship, as `fetch` templates.
WGET = ("wget", "-q", "-O", "/dev/null", "{url}")
CURL = ("curl", "-fsS", "-o", "/dev/null", "{url}")


@dataclass(frozen=True)
class CommandCheck:
    """Healthy when this command, run inside the container, exits 0 (no HTTP endpoint to ask)."""

    command: tuple[str, ...]


@dataclass(frozen=True)
class Health:
    """What to check and how often; targets turn it into a Docker healthcheck or Kubernetes
    startup/readiness/liveness probes (start_period_s bounds the startup probe)."""

    check: HttpCheck | CommandCheck
    interval_s: int = 30
    timeout_s: int = 5
    retries: int = 3
    start_period_s: int = 20


@dataclass(frozen=True)
class Amount:
    memory_mb: int
    cpu_millicores: int


@dataclass(frozen=True)
class Resources:
    """What the scheduler reserves (requests) and what the service may never exceed (limits)."""

    requests: Amount
    limits: Amount

    def __post_init__(self) -> None:
        if self.requests.memory_mb > self.limits.memory_mb or self.requests.cpu_millicores > self.limits.cpu_millicores:
            raise AssertionError(f"requests {self.requests} exceed limits {self.limits}")


def resources(memory_mb: int, cpu_millicores: int) -> Resources:
    """Limits from the settings; requests derived from them the same way for every service.

    Memory is requested in full: it cannot be taken back from a process, so a request below the
    limit lets a node overcommit and the kernel kill. CPU is requested at a quarter (at least 50m,
    never above the limit): CPU over the request is only throttled, never fatal.
    """
    cpu_request = min(cpu_millicores, max(50, cpu_millicores // 4))
    return Resources(requests=Amount(memory_mb, cpu_request), limits=Amount(memory_mb, cpu_millicores))


class Workload(Enum):
    """What kind of object a target should run a service as."""

    # Long-running, owns data that only one copy may write (SQLite, a TSDB): exactly one
    # instance, and the old one stops before a new one starts (never a rolling overlap).
    SINGLE_WRITER = "single-writer"
    # Long-running, keeps nothing of its own: any number of copies, rolling updates.
    STATELESS = "stateless"
    # Runs to completion on a schedule (see ScheduledTask).
    SCHEDULED = "scheduled"


class Shutdown(Enum):
    """How the service wants to be stopped; targets choose the signal or hook."""

    # SIGTERM finishes cleanly (and SIGHUP/SIGUSR1 must never be sent: the gateway dies or opens
    # its debugger).
    TERM = "term"
    # nginx: a graceful quit finishes open requests; SIGTERM would drop them.
    GRACEFUL_QUIT = "graceful-quit"


@dataclass(frozen=True)
class Metrics:
    """Prometheus metrics on a named port; the scrape job is the service's name unless `job` says
    otherwise (a proxy that serves another service's metrics, like metrics-auth for the gateway)."""

    port: str
    path: str = "/metrics"
    # An admin API key the endpoint wants in `X-API-Key` (gateway 0.1.0). Prometheus never sends
    # it itself (Bearer is refused for API keys): a metrics-auth proxy beside the service adds it
    # (the stack's metrics-auth service on Docker and bare metal, a sidecar in the pod on
    # Kubernetes), and that proxy is what gets scraped.
    credential: SecretRef | None = None
    job: str | None = None
    # The `instance` label, when it should name another service than the one scraped.
    instance: str | None = None
    # The job's own scrape interval and timeout (Prometheus durations); None: the global ones.
    interval: str | None = None
    timeout: str | None = None
    # The endpoint wants Alertmanager's web credential (infra/monitoring/web_auth.py); Prometheus
    # sends it from its own password file.
    web_auth: bool = False


@dataclass(frozen=True)
class Service:
    name: str
    image: Image
    uid: int
    gid: int
    workload: Workload
    resources: Resources
    health: Health
    command: tuple[str, ...] = ()
    env: dict[str, EnvValue] = field(default_factory=dict)
    ports: tuple[Port, ...] = ()
    metrics: Metrics | None = None
    mounts: tuple[Mount, ...] = ()
    host_mounts: tuple[HostMount, ...] = ()
    # Supplementary group ids (e.g. the Docker socket's group for a non-root Alloy).
    extra_groups: tuple[int, ...] = ()
    # Every ConfigFile and SecretFile lives under config_dir, which targets back with their own
    # storage (Docker: a volume a one-shot container fills; Kubernetes: a ConfigMap or Secret).
    config_dir: str | None = None
    files: tuple[ConfigFile, ...] = ()
    secret_files: tuple[SecretFile, ...] = ()
    read_only_root: bool = True
    scratch: tuple[Scratch, ...] = (TMP,)
    # Every capability is dropped; these few are kept (only where an image cannot start without).
    capabilities_add: tuple[str, ...] = ()
    # Services that must be running (and healthy, where targets can wait) before this one starts.
    depends_on: tuple[str, ...] = ()
    shutdown: Shutdown = Shutdown.TERM
    stop_grace_s: int = 30

    def port(self, name: str) -> Port:
        for p in self.ports:
            if p.name == name:
                return p
        raise KeyError(f"service {self.name!r} has no port named {name!r}")

    def published(self) -> tuple[Port, ...]:
        """Ports someone outside the stack may reach (operator or public)."""
        return tuple(p for p in self.ports if p.reach is not Reach.SERVICES)

    def secret_refs(self) -> set[str]:
        keys = {v.key for v in self.env.values() if isinstance(v, SecretRef)}
        keys |= {ref.key for f in self.files for ref in f.secrets}
        return keys | {f.secret.key for f in self.secret_files}


@dataclass(frozen=True)
class Resident:
    """How a target without a scheduler of its own (Docker) runs a scheduled task: the task's tool
    as a long-running process that keeps the schedule itself, with what such a process adds (a
    port for its health and metrics)."""

    command: tuple[str, ...]
    health: Health
    ports: tuple[Port, ...] = ()
    metrics: Metrics | None = None
    stop_grace_s: int = 30
    # Services it starts after (healthy first), as a service's depends_on.
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScheduledTask:
    """Runs to completion every `every_hours` hours (UTC, from midnight), never two runs at once.

    Kubernetes runs it as a CronJob, bare metal as a systemd service and timer, Docker as the
    `resident` form. Everything the forms share is declared here once.
    """

    name: str
    image: Image
    uid: int
    gid: int
    resources: Resources
    # One run.
    command: tuple[str, ...]
    every_hours: int
    # A run still going after this long is stopped (and counts as failed).
    deadline_s: int
    resident: Resident
    env: dict[str, EnvValue] = field(default_factory=dict)
    mounts: tuple[Mount, ...] = ()
    config_dir: str | None = None
    files: tuple[ConfigFile, ...] = ()
    read_only_root: bool = True
    scratch: tuple[Scratch, ...] = (TMP,)
    workload: Workload = Workload.SCHEDULED
    # TCP ports it connects to outside the stack (and DNS); none: it needs no network at all.
    egress_ports: tuple[int, ...] = ()
    # Minutes past the hour a run starts (a step that follows another starts after it).
    start_minute: int = 0
    # Where a target sees only whether a run succeeded, not the metrics it writes (Kubernetes: a
    # CronJob's jobs are not scraped, kube-state-metrics reports their success), it runs these steps
    # instead of this task, each a task of its own, so each step's success is seen and alerted on by
    # itself. Targets that scrape the run's metrics (Docker's resident form, bare metal's textfile) run
    # the task itself. A step's `resident` form is never used.
    steps: tuple[ScheduledTask, ...] = ()

    def scheduled(self) -> tuple[ScheduledTask, ...]:
        """What a target that sees only each run's success schedules: the steps, else the task."""
        return self.steps or (self,)

    def resident_service(self) -> Service:
        """The task as the long-running service a target without a scheduler runs."""
        return Service(
            name=self.name,
            image=self.image,
            uid=self.uid,
            gid=self.gid,
            # It alone writes what it writes (its own volume), one copy at a time.
            workload=Workload.SINGLE_WRITER,
            resources=self.resources,
            health=self.resident.health,
            command=self.resident.command,
            env=self.env,
            ports=self.resident.ports,
            metrics=self.resident.metrics,
            mounts=self.mounts,
            config_dir=self.config_dir,
            files=self.files,
            read_only_root=self.read_only_root,
            scratch=self.scratch,
            stop_grace_s=self.resident.stop_grace_s,
            depends_on=self.resident.depends_on,
        )


@dataclass(frozen=True)
class StackSpec:
    """Everything one stack runs."""

    stack: str
    environment: str
    prefix: str
    services: tuple[Service, ...]
    volumes: tuple[Volume, ...]
    tasks: tuple[ScheduledTask, ...] = ()

    def service(self, name: str) -> Service:
        for s in self.services:
            if s.name == name:
                return s
        raise KeyError(f"stack {self.stack!r} has no service {name!r}")

    def task(self, name: str) -> ScheduledTask:
        for t in self.tasks:
            if t.name == name:
                return t
        raise KeyError(f"stack {self.stack!r} has no scheduled task {name!r}")

    def long_running(self) -> tuple[Service, ...]:
        """What a target without a scheduler runs: the services, then each task's resident form."""
        return self.services + tuple(t.resident_service() for t in self.tasks)

    def secret_keys(self) -> set[str]:
        keys: set[str] = set()
        for s in self.long_running():
            keys |= s.secret_refs()
        return keys
