"""The backup service as the container runs it: shipped package, system Python, /metrics over HTTP."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from infra.backup import core, metrics
from infra.settings import load_stack
from infra.stack import backup
from testbed.processes import read_line
from tests.support.databases import make_db

# How long the service may take to say where it listens.
START_TIMEOUT_S = 20.0
LISTENING = re.compile(r"serving metrics on http://127\.0\.0\.1:(\d+)/metrics")


def scrape(port: int) -> dict[str, float]:
    resp = requests.get(f"http://127.0.0.1:{port}{backup.METRICS_PATH}", timeout=5)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == metrics.CONTENT_TYPE
    return {s.name: s.value for f in text_string_to_metric_families(resp.text) for s in f.samples}


def test_serve_backs_up_on_its_interval_and_serves_metrics(tmp_path: Path) -> None:
    data, backups, tool = tmp_path / "data", tmp_path / "backups", tmp_path / "etc"
    data.mkdir()
    make_db(data / "tasks.db")
    # The files the Docker service receives, at the path PYTHONPATH names, run by the system Python.
    service = backup.build(load_stack("dev")).tasks[0].resident_service()
    for f in service.files:
        path = tool / Path(f.path).relative_to(backup.CONFIG_DIR)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f.content)
    command = list(service.command)
    assert command[:3] == ["python3", "-m", backup.PACKAGE]
    swap = {"--data-dir": str(data), "--backup-dir": str(backups), "--interval-seconds": "2", "--listen": "127.0.0.1:0"}
    for i, arg in enumerate(command):
        if arg in swap:
            command[i + 1] = swap[arg]
    plain_env = {k: v for k, v in service.env.items() if isinstance(v, str)}
    proc = subprocess.Popen(
        ["/usr/bin/python3", "-S", *command[1:]],
        env={**plain_env, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(tool)},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = 0
        for _ in range(20):
            line = read_line(proc.stderr, START_TIMEOUT_S)
            if m := LISTENING.search(line):
                port = int(m.group(1))
                break
        assert port, "the service never said where it listens"
        first: dict[str, float] = {}
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and first.get("friday_backup_kept", 0) < 1:
            first = scrape(port)
            time.sleep(0.2)
        assert first["friday_backup_kept"] == 1
        assert first[metrics.LAST_SUCCESS] > time.time() - 30
        assert requests.get(f"http://127.0.0.1:{port}{backup.HEALTH_PATH}", timeout=5).status_code == 200
        # The next interval brings a second backup and a newer timestamp.
        later = first
        while time.monotonic() < deadline and later[metrics.LAST_SUCCESS] == first[metrics.LAST_SUCCESS]:
            time.sleep(0.3)
            later = scrape(port)
        assert later[metrics.LAST_SUCCESS] > first[metrics.LAST_SUCCESS]
        # A broken data folder: failures counted, last success kept, service still up.
        shutil.rmtree(data)
        while time.monotonic() < deadline and later["friday_backup_failures_total"] == 0:
            time.sleep(0.3)
            later = scrape(port)
        assert later["friday_backup_failures_total"] >= 1
        assert later[metrics.LAST_SUCCESS] >= first[metrics.LAST_SUCCESS]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert all(b.complete for b in core.list_backups(backups))
