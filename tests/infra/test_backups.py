"""Backups exist, verify, and are fresh (newest complete manifest younger than the stale limit)."""

from __future__ import annotations

import json
import shlex
import time
from typing import Any

import pytest

from infra.backup import core, metrics
from infra.host import backup as host_backup
from infra.stack import backup
from tests.infra import probe
from tests.infra.options import HostConfig


def _assert_fresh(listing: list[dict[str, Any]], friday: HostConfig, where: str) -> None:
    complete = [b for b in listing if b["complete"]]
    assert complete, f"no complete backup in {where}"
    age = time.time() - max(float(b["finished_ts"]) for b in complete)
    limit_h = friday.backup_max_age_s / 3600
    assert age < friday.backup_max_age_s, f"newest backup in {where} is {age / 3600:.1f}h old (limit {limit_h:g}h)"


def _tool(friday: HostConfig, *args: str) -> str:
    return f"PYTHONPATH={shlex.quote(friday.tool_dir)} python3 -m {backup.PACKAGE} " + " ".join(map(shlex.quote, args))


@pytest.mark.baremetal
def test_backup_timer_and_tool_are_installed(host: Any, friday: HostConfig) -> None:
    units = friday.path("/etc/systemd/system")
    for unit in (f"{host_backup.UNIT}.service", f"{host_backup.UNIT}.timer"):
        assert host.file(f"{units}/{unit}").is_file, f"{unit} is not installed in {units}"
    assert host.file(f"{friday.tool_dir}/{backup.PACKAGE}/__main__.py").is_file


@pytest.mark.baremetal
def test_backups_exist_verify_and_are_fresh(host: Any, friday: HostConfig) -> None:
    folder = friday.path(friday.backup_dir)
    listing = host.run(_tool(friday, "list", "--backup-dir", folder, "--json"))
    assert listing.rc == 0, listing.stderr
    _assert_fresh(json.loads(listing.stdout), friday, folder)
    verify = host.run(_tool(friday, "verify", "--backup-dir", folder))
    assert verify.rc == 0, verify.stderr
    # The manifest itself, read directly: the tool is not trusted to judge itself.
    newest = max(b["name"] for b in json.loads(listing.stdout) if b["complete"])
    manifest = json.loads(host.file(f"{folder}/{newest}/{core.MANIFEST}").content_string)
    assert {d["name"] for d in manifest["databases"]} >= set(core.KNOWN_DATABASES)


@pytest.mark.baremetal
def test_backup_metrics_textfile_is_fresh(host: Any, friday: HostConfig) -> None:
    prom = host.file(friday.textfile)
    assert prom.is_file, f"no backup metrics at {prom.path} (node-exporter textfile collector)"
    values = dict(line.split()[:2] for line in prom.content_string.splitlines() if line and not line.startswith("#"))
    # The off-host series are written only when off-host copies are on (backupOffsiteEnabled).
    expected = {m.name for m in metrics.METRICS if friday.settings.backup_offsite_enabled or not m.offsite}
    assert set(values) == expected
    assert time.time() - float(values[metrics.LAST_SUCCESS]) < friday.backup_max_age_s


@pytest.mark.docker
def test_docker_backups_exist_verify_and_are_fresh(host: Any, friday: HostConfig) -> None:
    container = friday.container(backup.NAME)
    run = f"docker exec {container} python3 -m {backup.PACKAGE}"
    listing = host.run(f"{run} list --backup-dir {backup.BACKUP_DIR} --json")
    assert listing.rc == 0, listing.stderr
    _assert_fresh(json.loads(listing.stdout), friday, f"{container}:{backup.BACKUP_DIR}")
    verify = host.run(f"{run} verify --backup-dir {backup.BACKUP_DIR}")
    assert verify.rc == 0, verify.stderr


PROMETHEUS_WAIT_S = 30.0


@pytest.mark.baremetal
def test_prometheus_reads_the_backup_metrics(host: Any, friday: HostConfig) -> None:
    """BackupStale needs the textfile metrics in Prometheus (node-exporter job), or it fires via absent()."""
    url = f"{friday.prometheus_url}/api/v1/query?query={metrics.LAST_SUCCESS}"
    deadline = time.monotonic() + PROMETHEUS_WAIT_S
    while True:
        resp = probe.get(host, url)
        assert resp.status == 200, f"Prometheus {url} answered {resp.status}"
        result = resp.json()["data"]["result"]
        if result or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert result, f"Prometheus has no {metrics.LAST_SUCCESS}: no node-exporter textfile job (see docs/backups.md)"
    newest = max(float(r["value"][1]) for r in result)
    assert time.time() - newest < friday.backup_max_age_s
