"""Grafana Alloy: reads this stack's container logs through the Docker API and pushes them to Loki.

Why the Docker socket rather than the json-file logs under /var/lib/docker/containers:
- containers are selected by the `friday.stack` label, which only the API exposes (the
  json-file path names a container id that changes on every re-creation);
- those files are root-only (0640 root:root), so Alloy would have to run as root, and the
  folder also holds every container's config.v2.json with its environment (secrets).
The cost: whoever can talk to the socket controls the Docker host (root equivalent), and a
read-only bind mount does not narrow the API. Alloy therefore runs as its image's non-root
user with only the socket's group added, drops every capability, and has no published port.
docs/logging.md describes putting a read-only Docker API proxy in between.
"""

from __future__ import annotations

from infra.logs import pipeline
from infra.settings import Settings
from infra.stack import loki
from infra.stack.parts import Part
from infra.stack.spec import (
    CURL,
    ConfigFile,
    Health,
    HostMount,
    HttpCheck,
    Image,
    Metrics,
    Mount,
    Port,
    Service,
    Volume,
    Workload,
    resources,
)

NAME = "alloy"
DATA_VOLUME = "alloy-data"
# The image's non-root user (grafana/alloy creates `alloy` with uid/gid 473).
UID = GID = 473
HTTP_PORT = 12345
HTTP = "http"  # the name of that port (UI, /-/ready and /metrics)
READY_PATH = "/-/ready"
METRICS_PATH = "/metrics"
CONFIG_DIR = "/etc/alloy"
CONFIG_PATH = f"{CONFIG_DIR}/config.alloy"
# Positions (how far each container's log was read) survive restarts here.
DATA_DIR = "/var/lib/alloy/data"


def config(settings: Settings) -> str:
    return pipeline.docker_config(settings, loki.push_url())


def health() -> Health:
    # curl ships in the image (Ubuntu based).
    return Health(HttpCheck(HTTP, READY_PATH, CURL), interval_s=15, start_period_s=30)


def runs_on(settings: Settings) -> bool:
    # The Docker socket exists only on the Docker target; on Kubernetes Alloy would discover
    # pods instead (discovery.kubernetes), which comes with the Kubernetes target.
    return settings.target == "docker"


def build(settings: Settings) -> Part:
    if not runs_on(settings):
        return Part()
    volume = Volume(
        name=DATA_VOLUME, purpose="Alloy positions (read offsets of each log)", owner_uid=UID, owner_gid=GID, size_gb=1
    )
    service = Service(
        name=NAME,
        image=Image(settings.alloy_image, settings.alloy_tag),
        uid=UID,
        gid=GID,
        # Its positions file: one reader per volume, or lines are shipped twice.
        workload=Workload.SINGLE_WRITER,
        resources=resources(settings.alloy_memory_mb, settings.alloy_cpu_millicores),
        health=health(),
        command=(
            "run",
            f"--server.http.listen-addr=0.0.0.0:{HTTP_PORT}",
            f"--storage.path={DATA_DIR}",
            "--disable-reporting",
            CONFIG_PATH,
        ),
        ports=(Port(HTTP, HTTP_PORT),),
        metrics=Metrics(HTTP, METRICS_PATH),
        mounts=(Mount(DATA_VOLUME, DATA_DIR),),
        host_mounts=(HostMount(settings.docker_socket_path, pipeline.DOCKER_SOCKET, read_only=True),),
        # Unset until deploy time, when infra.host_checks.resolve_socket_gid reads it from the socket.
        extra_groups=() if settings.docker_socket_gid is None else (settings.docker_socket_gid,),
        config_dir=CONFIG_DIR,
        files=(ConfigFile(CONFIG_PATH, config(settings)),),
    )
    return Part(services=(service,), volumes=(volume,))
