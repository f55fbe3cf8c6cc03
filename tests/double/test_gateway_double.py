"""The gateway double behaves like gateway 0.1.0 where the infrastructure depends on it."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from infra.metrics.catalog import exposed
from testbed.gateway_double import BODY_LIMIT, CONTROL_PATH, GatewayDouble, is_allowed_client
from testbed.paths import GATEWAY_METRICS_FIXTURE, REPO_ROOT
from testbed.processes import free_port, http_ok, wait_for

TOKEN = "admin-key-for-tests-0123456789"
TIMEOUT = 5


@pytest.fixture
def gw() -> Iterator[GatewayDouble]:
    with GatewayDouble(
        TOKEN, ws_interval=0.2, admin_password="correct horse", user_keys=("viewer-key-for-tests",)
    ) as double:
        yield double


def test_health_is_public_and_shaped_like_the_gateways(gw: GatewayDouble) -> None:
    r = requests.get(f"{gw.url}/health", timeout=TIMEOUT)
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["version"] == "0.1.0"
    assert body["checks"] == {"database": True, "auditChain": True}


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong"}, 401),
        ({"X-API-Key": "wrong"}, 401),
        # An API key sent as Bearer is checked as a JWT and refused (gateway.md).
        ({"Authorization": f"Bearer {TOKEN}"}, 401),
        ({"X-API-Key": "viewer-key-for-tests"}, 403),
    ],
)
def test_metrics_refuses_without_the_admin_credential(gw: GatewayDouble, headers: dict[str, str], status: int) -> None:
    r = requests.get(f"{gw.url}/metrics", headers=headers, timeout=TIMEOUT)
    assert r.status_code == status
    assert "error" in r.json()


@pytest.mark.parametrize("header", ["Authorization", "X-API-Key"])
def test_metrics_with_either_credential_is_the_real_format(gw: GatewayDouble, header: str) -> None:
    value = f"Bearer {gw.jwt()}" if header == "Authorization" else TOKEN
    r = requests.get(f"{gw.url}/metrics", headers={header: value}, timeout=TIMEOUT)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    # Untouched values are the fixture's: the body is byte for byte a real scrape.
    assert r.text == GATEWAY_METRICS_FIXTURE.read_text(encoding="utf-8")
    families = {f.name for f in text_string_to_metric_families(r.text)}
    # prometheus_client strips _total from counter family names.
    expected = {m.name.removesuffix("_total") if m.type == "counter" else m.name for m in exposed()}
    assert families == expected


def test_metrics_gzip_when_asked(gw: GatewayDouble) -> None:
    r = requests.get(
        f"{gw.url}/metrics",
        headers={"X-API-Key": TOKEN, "Accept-Encoding": "gzip"},
        timeout=TIMEOUT,
        stream=True,
    )
    assert r.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(r.raw.read()).startswith(b"# HELP friday_tasks_total")


def test_values_a_test_sets_appear_in_the_scrape(gw: GatewayDouble) -> None:
    gw.values.update({"friday_tasks_queue_depth": 80, "friday_tasks_by_status": {"completed": 3}})
    gw.values.inc("friday_auth_failures_total", 7)
    text = requests.get(f"{gw.url}/metrics", headers={"X-API-Key": TOKEN}, timeout=TIMEOUT).text
    assert "\nfriday_tasks_queue_depth 80\n" in text
    assert '\nfriday_tasks_by_status{status="completed"} 3\n' in text
    assert "\nfriday_auth_failures_total 7\n" in text


def test_control_endpoint_sets_values_and_rejects_unknown_metrics(gw: GatewayDouble) -> None:
    r = requests.post(f"{gw.url}{CONTROL_PATH}", json={"friday_audit_chain_valid": 0}, timeout=TIMEOUT)
    assert r.status_code == 204
    assert gw.values.value("friday_audit_chain_valid") == 0
    r = requests.post(f"{gw.url}{CONTROL_PATH}", json={"friday_memory_limit_mb": 1}, timeout=TIMEOUT)
    assert r.status_code == 400
    assert "not exposed" in r.json()["error"]


def test_login_body_limit_is_one_megabyte(gw: GatewayDouble) -> None:
    ok = requests.post(f"{gw.url}/api/v1/auth/login", json={"password": "correct horse"}, timeout=TIMEOUT)
    assert ok.status_code == 200 and ok.json()["tokenType"] == "Bearer"
    wrong = requests.post(f"{gw.url}/api/v1/auth/login", json={"password": "nope"}, timeout=TIMEOUT)
    assert wrong.status_code == 401
    big = json.dumps({"password": "x" * BODY_LIMIT})
    r = requests.post(
        f"{gw.url}/api/v1/auth/login", data=big, headers={"Content-Type": "application/json"}, timeout=TIMEOUT
    )
    assert r.status_code == 413


def test_other_api_routes_need_a_credential(gw: GatewayDouble) -> None:
    assert requests.get(f"{gw.url}/api/v1/tasks", timeout=TIMEOUT).status_code == 401
    r = requests.get(f"{gw.url}/api/v1/tasks", headers={"X-API-Key": TOKEN}, timeout=TIMEOUT)
    assert r.status_code == 404


def test_websocket_refuses_without_credential_then_updates_after_subscribe(gw: GatewayDouble) -> None:
    url = f"ws://127.0.0.1:{gw.port}/ws/metrics"
    gw.values.update({"friday_tasks_queue_depth": 12})

    async def scenario() -> tuple[int, dict[str, Any], dict[str, Any]]:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url, open_timeout=TIMEOUT):
                pass
        async with connect(url, additional_headers={"X-API-Key": TOKEN}, open_timeout=TIMEOUT) as ws:
            await ws.send("not json")  # ignored, as the gateway does
            with pytest.raises(TimeoutError):  # nothing before a subscribe (updates every 0.2 s here)
                await asyncio.wait_for(ws.recv(), 0.6)
            await ws.send(json.dumps({"type": "subscribe", "payload": {"channels": ["metrics"]}}))
            ack = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
            update = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
            return refused.value.response.status_code, ack, update

    status, ack, update = asyncio.run(scenario())
    assert status == 401
    assert ack["type"] == "ack" and ack["payload"] == {"subscribed": ["metrics"]}
    assert update["type"] == "update" and update["channel"] == "metrics"
    assert update["payload"]["tasks"]["queueDepth"] == 12


def test_no_token_means_open_metrics() -> None:
    with GatewayDouble(None) as gw:
        assert requests.get(f"{gw.url}/metrics", timeout=TIMEOUT).status_code == 200


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("192.168.0.9", True),
        ("172.31.0.1", True),
        ("::1", True),
        # The gateway's own test, by string: the rest of 127/8, 172.32/12's neighbours, link-local,
        # IPv6 private and IPv4-mapped addresses are refused (docs/gateway.md).
        ("127.0.0.77", False),
        ("172.32.0.1", False),
        ("169.254.1.1", False),
        ("fd00::1", False),
        ("::ffff:127.0.0.1", False),
        ("8.8.8.8", False),
        (None, False),
    ],
)
def test_only_private_clients_are_served(address: str | None, allowed: bool) -> None:
    assert is_allowed_client(address) is allowed


def _start_process(tmp_path: Path) -> tuple[subprocess.Popen[str], int]:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n", encoding="utf-8")
    config = tmp_path / "gateway.yaml"
    config.write_text("logging:\n  level: debug\n", encoding="utf-8")
    port = free_port()
    proc = subprocess.Popen(
        [
            *[sys.executable, "-m", "testbed.gateway_double", "--port", str(port)],
            *["--token-file", str(token_file), "--config", str(config)],
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    try:
        wait_for("the double process", lambda: http_ok(f"http://127.0.0.1:{port}/health"), 15)
    except AssertionError:
        proc.kill()
        raise AssertionError(f"double process did not start: {proc.communicate(timeout=5)}") from None
    return proc, port


def test_process_logs_json_lines_and_stops_on_sigterm(tmp_path: Path) -> None:
    proc, port = _start_process(tmp_path)
    try:
        requests.get(f"http://127.0.0.1:{port}/metrics", headers={"X-API-Key": TOKEN}, timeout=TIMEOUT)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert f"listening on http://127.0.0.1:{port}" in err
    # stdout is not only JSON: the banner and the stop lines are text (checked in test_parity.py).
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    request = next(line for line in lines if line.get("url") == "/metrics")
    assert request["level"] == "debug" and request["statusCode"] == 200
    assert request["time"].endswith("Z")


def test_process_dies_on_sighup_like_the_gateway(tmp_path: Path) -> None:
    proc, _ = _start_process(tmp_path)
    try:
        proc.send_signal(signal.SIGHUP)
        proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == -signal.SIGHUP
