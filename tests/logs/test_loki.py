"""Loki's rendered config and service. Loki itself cannot run here: the checks are structural."""

from __future__ import annotations

import re

import pytest
import yaml

from infra.settings import SettingsError
from infra.stack import loki
from infra.stack.build import build_stack
from testbed.settings import settings_of
from tests.support.docker_plan import container_of
from tests.support.kubernetes import KUBE_BASE

# Keys the config may use, per block, from Loki 3's configuration reference: a misspelt key
# (Loki refuses unknown keys at start) fails here although Loki cannot run on this machine.
KNOWN_KEYS: dict[str, set[str]] = {
    "": {
        "target",
        "auth_enabled",
        "server",
        "common",
        "schema_config",
        "storage_config",
        "compactor",
        "limits_config",
        "analytics",
        "ruler",
        "querier",
        "query_range",
        "ingester",
        "distributor",
        "frontend",
    },
    "server": {"http_listen_address", "http_listen_port", "grpc_listen_address", "grpc_listen_port", "log_level"},
    "common": {"path_prefix", "instance_addr", "replication_factor", "ring", "storage", "compactor_address"},
    "common.storage": {"filesystem", "s3", "gcs", "azure"},
    "common.storage.filesystem": {"chunks_directory", "rules_directory"},
    "schema_config": {"configs"},
    "storage_config": {"tsdb_shipper", "filesystem", "boltdb_shipper"},
    "storage_config.tsdb_shipper": {"active_index_directory", "cache_location", "cache_ttl"},
    "compactor": {
        "working_directory",
        "compaction_interval",
        "retention_enabled",
        "retention_delete_delay",
        "retention_delete_worker_count",
        "delete_request_store",
    },
    "limits_config": {
        "retention_period",
        "reject_old_samples",
        "reject_old_samples_max_age",
        "allow_structured_metadata",
        "volume_enabled",
        "discover_service_name",
    },
    "analytics": {"reporting_enabled"},
}


def unknown_keys(doc: dict[str, object], path: str = "") -> list[str]:
    out = [f"{path or '(top)'}.{k}" for k in doc if k not in KNOWN_KEYS[path]]
    for key, value in doc.items():
        child = f"{path}.{key}" if path else key
        if isinstance(value, dict) and child in KNOWN_KEYS:
            out += unknown_keys(value, child)
    return out


def config_of(plain: dict[str, object] | None = None) -> dict[str, object]:
    spec = build_stack(settings_of(plain))
    [file] = spec.service(loki.NAME).files
    assert file.path == loki.CONFIG_PATH
    loaded = yaml.safe_load(file.content)
    assert isinstance(loaded, dict)
    return loaded


def test_monolithic_tsdb_v13_on_the_filesystem_without_auth() -> None:
    c = config_of()
    assert c["target"] == "all"
    assert c["auth_enabled"] is False
    [schema] = c["schema_config"]["configs"]  # type: ignore[index]
    assert (schema["store"], schema["schema"], schema["object_store"]) == ("tsdb", "v13", "filesystem")
    assert schema["index"]["period"] == "24h"
    common = c["common"]
    assert common["replication_factor"] == 1  # type: ignore[index]
    assert common["ring"] == {"kvstore": {"store": "inmemory"}}  # type: ignore[index]
    assert c["server"]["http_listen_port"] == loki.HTTP_PORT  # type: ignore[index]


def test_only_keys_of_the_configuration_reference() -> None:
    c = config_of()
    assert unknown_keys(c) == []
    c["compactor"]["retension_enabled"] = True  # type: ignore[index]
    assert unknown_keys(c) == ["compactor.retension_enabled"]


def test_every_path_is_on_the_data_volume() -> None:
    c = config_of()
    paths = [
        c["common"]["path_prefix"],  # type: ignore[index]
        *c["common"]["storage"]["filesystem"].values(),  # type: ignore[index]
        *c["storage_config"]["tsdb_shipper"].values(),  # type: ignore[index]
        c["compactor"]["working_directory"],  # type: ignore[index]
    ]
    service = build_stack(settings_of()).service(loki.NAME)
    [mount] = service.mounts
    assert mount.path == loki.DATA_DIR
    assert all(str(p).startswith(mount.path) for p in paths), paths


@pytest.mark.parametrize(("setting", "hours"), [("30d", "720h"), ("2w", "336h"), ("48h", "48h")])
def test_retention_from_the_setting_enforced_by_the_compactor(setting: str, hours: str) -> None:
    c = config_of({"lokiRetentionPeriod": setting})
    assert c["limits_config"]["retention_period"] == hours  # type: ignore[index]
    compactor = c["compactor"]
    assert compactor["retention_enabled"] is True  # type: ignore[index]
    # Loki 3 refuses retention without a store for delete requests.
    assert compactor["delete_request_store"] == "filesystem"  # type: ignore[index]


@pytest.mark.parametrize("bad", ["36h", "0d", "30", "1d12h"])
def test_retention_that_is_not_whole_days_is_refused(bad: str) -> None:
    with pytest.raises(SettingsError, match=r"friday:lokiRetentionPeriod = "):
        settings_of({"lokiRetentionPeriod": bad})


def test_service_is_non_root_pinned_limited_and_checked_on_ready() -> None:
    s = settings_of({"lokiMemoryMb": 768, "lokiCpuMillicores": 700})
    service = build_stack(s).service(loki.NAME)
    docker = container_of(s, loki.NAME)
    assert (service.uid, service.gid) == (10001, 10001) and docker.user == "10001:10001"
    assert service.image.repository == "grafana/loki"
    assert re.fullmatch(r"3\.\d+\.\d+", service.image.tag)
    limits = service.resources.limits
    assert (limits.memory_mb, limits.cpu_millicores) == (768, 700)
    assert service.command == (f"-config.file={loki.CONFIG_PATH}", "-target=all")
    # No shell or wget in the image since 3.6: the binary checks itself.
    assert docker.healthcheck.tests == (
        "CMD",
        "/usr/bin/loki",
        "-health",
        f"-health.url=http://127.0.0.1:{loki.HTTP_PORT}{loki.READY_PATH}",
    )
    assert service.read_only_root and "/tmp" in docker.tmpfs
    assert docker.log_opts["max-size"] == s.docker_log_max_size
    [port] = docker.ports
    assert (port.ip, port.internal, port.external) == ("127.0.0.1", loki.HTTP_PORT, 3100)
    assert service.metrics is not None and service.metrics.port == loki.HTTP and loki.METRICS_PATH == "/metrics"
    volume = next(v for v in build_stack(s).volumes if v.name == loki.DATA_VOLUME)
    assert (volume.owner_uid, volume.owner_gid) == (10001, 10001)


def test_push_url_is_the_service_name_and_port() -> None:
    assert loki.push_url() == f"http://{loki.NAME}:{loki.HTTP_PORT}/loki/api/v1/push"


def test_loki_and_alloy_are_registered_for_scraping() -> None:
    from infra.stack import alloy
    from infra.stack.prometheus import scrape_targets

    docker = {t.job: t for t in scrape_targets(build_stack(settings_of()).long_running())}
    assert (docker["loki"].address, docker["loki"].metrics_path) == (f"loki:{loki.HTTP_PORT}", "/metrics")
    assert docker["alloy"].address == f"alloy:{alloy.HTTP_PORT}"
    kubernetes = {t.job for t in scrape_targets(build_stack(settings_of(KUBE_BASE)).long_running())}
    assert "loki" in kubernetes and "alloy" not in kubernetes
