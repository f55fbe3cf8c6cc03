"""Loki, monolithic (`-target=all`): one binary, tsdb index (schema v13), filesystem storage
on its own volume, retention enforced by the compactor.

The image (grafana/loki 3.6 and later) is distroless without a shell, wget or curl, and runs
as uid 10001; the binary checks its own /ready with `-health` (grafana/loki PR 20313, Jan 2026).
"""

from __future__ import annotations

from dataclasses import dataclass

from infra import yamlio
from infra.settings import Settings
from infra.settings.defaults import LOKI_HTTP_PORT
from infra.stack.parts import Part
from infra.stack.spec import (
    ConfigFile,
    Health,
    HostBinding,
    HttpCheck,
    Image,
    Metrics,
    Mount,
    Port,
    Reach,
    Service,
    Volume,
    Workload,
    resources,
)

NAME = "loki"
DATA_VOLUME = "loki-data"
# The image's own user; its directories belong to it.
UID = GID = 10001
ENTRYPOINT = "/usr/bin/loki"
HTTP_PORT = LOKI_HTTP_PORT
GRPC_PORT = 9095
HTTP, GRPC = "http", "grpc"  # the names of those ports
PUSH_PATH = "/loki/api/v1/push"
READY_PATH = "/ready"
# Prometheus scrapes Loki on its API port.
METRICS_PATH = "/metrics"
# The image has no shell, wget or curl: the binary fetches its own /ready.
SELF_FETCH = (ENTRYPOINT, "-health", "-health.url={url}")
CONFIG_DIR = "/etc/loki"
CONFIG_PATH = f"{CONFIG_DIR}/config.yaml"
DATA_DIR = "/loki"
# First day of the v13/tsdb schema; a fresh store has nothing older.
SCHEMA_FROM = "2024-04-01"
_HOURS = {"h": 1, "d": 24, "w": 168}


def push_url() -> str:
    """Loki's push endpoint as seen from other containers on the stack network."""
    return f"http://{NAME}:{HTTP_PORT}{PUSH_PATH}"


def retention_hours(period: str) -> int:
    return int(period[:-1]) * _HOURS[period[-1]]


@dataclass(frozen=True)
class Store:
    """What Loki is on every target, whoever writes its configuration: one tenant (no auth), one
    replica, the tsdb index (schema v13) on the filesystem, retention by the compactor. The Docker
    service's config.yaml (`loki_config`) and the Kubernetes install chart's values
    (infra/targets/kubernetes_map/install.py) both take these from here."""

    retention_period: str  # e.g. "720h"
    auth_enabled: bool = False
    replication_factor: int = 1
    object_store: str = "filesystem"
    retention_enabled: bool = True

    def schema_config(self) -> dict[str, object]:
        return {
            "configs": [
                {
                    "from": SCHEMA_FROM,
                    "store": "tsdb",
                    "object_store": self.object_store,
                    "schema": "v13",
                    "index": {"prefix": "index_", "period": "24h"},
                }
            ]
        }


def store(settings: Settings) -> Store:
    return Store(retention_period=f"{retention_hours(settings.loki_retention_period)}h")


def loki_config(settings: Settings) -> dict[str, object]:
    """config.yaml of the Loki service (Docker): the Store, with this container's listeners and paths."""
    st = store(settings)
    return {
        "target": "all",
        "auth_enabled": st.auth_enabled,
        "server": {
            "http_listen_address": "0.0.0.0",
            "http_listen_port": HTTP_PORT,
            "grpc_listen_port": GRPC_PORT,
            "log_level": "info",
        },
        "common": {
            "path_prefix": DATA_DIR,
            "instance_addr": "127.0.0.1",
            "replication_factor": st.replication_factor,
            "ring": {"kvstore": {"store": "inmemory"}},
            "storage": {
                st.object_store: {
                    "chunks_directory": f"{DATA_DIR}/chunks",
                    "rules_directory": f"{DATA_DIR}/rules",
                }
            },
        },
        "schema_config": st.schema_config(),
        "storage_config": {
            "tsdb_shipper": {
                "active_index_directory": f"{DATA_DIR}/tsdb-index",
                "cache_location": f"{DATA_DIR}/tsdb-cache",
            },
        },
        "compactor": {
            "working_directory": f"{DATA_DIR}/compactor",
            "compaction_interval": "10m",
            "retention_enabled": st.retention_enabled,
            "retention_delete_delay": "2h",
            "delete_request_store": st.object_store,
        },
        "limits_config": {
            "retention_period": st.retention_period,
            "reject_old_samples": True,
            "reject_old_samples_max_age": "168h",
            "allow_structured_metadata": True,
        },
        "analytics": {"reporting_enabled": False},
    }


def health() -> Health:
    # Loki reports ready only after its ring settles (~15 s after start).
    return Health(HttpCheck(HTTP, READY_PATH, SELF_FETCH), interval_s=15, start_period_s=60, retries=5)


def build(settings: Settings) -> Part:
    volume = Volume(
        name=DATA_VOLUME,
        purpose=f"Loki chunks and tsdb index (retention {settings.loki_retention_period})",
        owner_uid=UID,
        owner_gid=GID,
    )
    service = Service(
        name=NAME,
        image=Image(settings.loki_image, settings.loki_tag),
        uid=UID,
        gid=GID,
        # Filesystem storage: one Loki per volume.
        workload=Workload.SINGLE_WRITER,
        resources=resources(settings.loki_memory_mb, settings.loki_cpu_millicores),
        health=health(),
        command=(f"-config.file={CONFIG_PATH}", "-target=all"),
        ports=(
            Port(HTTP, HTTP_PORT, Reach.OPERATOR, HostBinding("127.0.0.1", settings.loki_host_port)),
            Port(GRPC, GRPC_PORT),
        ),
        metrics=Metrics(HTTP, METRICS_PATH),
        mounts=(Mount(DATA_VOLUME, DATA_DIR),),
        config_dir=CONFIG_DIR,
        files=(ConfigFile(CONFIG_PATH, yamlio.safe_dump(loki_config(settings), sort_keys=False)),),
        stop_grace_s=30,
    )
    return Part(services=(service,), volumes=(volume,))
