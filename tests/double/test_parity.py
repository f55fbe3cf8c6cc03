"""Parity: each fact of docs/gateway.md tagged `(double: <id>)` has a check here, run against the double.

The tags are read from the doc, so a fact added there without a check (or a check whose fact was
removed) fails `test_every_tagged_fact_has_a_check`. Each check states the gateway's behaviour,
not the double's internals: it would fail against a double that is kinder than the gateway.
"""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.support.gateway_double import (
    AUDIT_ENTRIES,
    BODY_LIMIT,
    CONTENT_TYPE,
    GatewayConfig,
    GatewayDouble,
    StartupError,
    is_allowed_client,
)
from tests.support.paths import REPO_ROOT
from tests.support.processes import free_port, read_line

DOC = REPO_ROOT / "docs" / "gateway.md"
TAG = re.compile(r"\(double: ([a-z0-9-]+)\)")
ADMIN_KEY = "admin-api-key-parity-0123456789"
VIEWER_KEY = "viewer-api-key-parity-0123456789"
TIMEOUT = 10


def doc_tags() -> list[str]:
    return TAG.findall(DOC.read_text(encoding="utf-8"))


@pytest.fixture
def gw() -> Iterator[GatewayDouble]:
    with GatewayDouble(ADMIN_KEY, user_keys=(VIEWER_KEY,), admin_password="pw", ws_interval=0.2) as double:
        yield double


def get(gw: GatewayDouble, path: str, **headers: str) -> requests.Response:
    return requests.get(f"{gw.url}{path}", headers=headers, timeout=TIMEOUT)


def run_process(
    tmp_path: Path, config: str | None, env: dict[str, str], stop: signal.Signals | None
) -> tuple[int, str]:
    """The double as a process (as the host suite and the rotation measurement run it): exit code, stdout."""
    argv = [sys.executable, "-m", "tests.support.gateway_double", "--port", str(free_port())]
    if config is not None:
        path = tmp_path / "gateway.yaml"
        path.write_text(config, encoding="utf-8")
        argv += ["--config", str(path)]
    full_env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), **env}
    proc = subprocess.Popen(
        argv, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env
    )
    try:
        if stop is not None:
            assert proc.stderr is not None
            line = read_line(proc.stderr, TIMEOUT)  # "listening on ..." once serving
            assert line.startswith("listening on "), line
            url = line.split()[-1]
            requests.get(f"{url}/health", timeout=TIMEOUT)
            proc.send_signal(stop)
        out, _ = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(TIMEOUT)
    return proc.returncode, out


# --- one check per fact -----------------------------------------------------------------------


def private_clients_only(gw: GatewayDouble, tmp: Path) -> None:
    assert is_allowed_client("10.0.0.7") and is_allowed_client("::1")
    assert not is_allowed_client("8.8.8.8")


def sighup_kills(gw: GatewayDouble, tmp: Path) -> None:
    code, _ = run_process(tmp, None, {}, signal.SIGHUP)
    assert code == -signal.SIGHUP


def log_level_from_config(gw: GatewayDouble, tmp: Path) -> None:
    # SECUREYEOMAN_LOG_LEVEL=debug does not enable request lines; logging.level: debug does.
    _, by_env = run_process(tmp, None, {"SECUREYEOMAN_LOG_LEVEL": "debug"}, signal.SIGTERM)
    assert '"Request completed"' not in by_env
    _, by_config = run_process(tmp, "logging:\n  level: debug\n", {}, signal.SIGTERM)
    assert '"Request completed"' in by_config


def unknown_level_refused(gw: GatewayDouble, tmp: Path) -> None:
    for config, env in (("logging:\n  level: fatal\n", {}), (None, {"SECUREYEOMAN_LOG_LEVEL": "fatal"})):
        code, _ = run_process(tmp, config, env, None)
        assert code == 1, (config, env)
    for level in ("trace", "debug", "info", "warn", "error"):
        GatewayConfig.load({"logging": {"level": level}}, {})
    with pytest.raises(StartupError):
        GatewayConfig.load({"logging": {"level": "fatal"}}, {})


def environment_from_env(gw: GatewayDouble, tmp: Path) -> None:
    _, out = run_process(tmp, None, {"SECUREYEOMAN_ENV": "staging", "NODE_ENV": "production"}, signal.SIGTERM)
    assert "  Environment:  staging" in out
    _, out = run_process(tmp, None, {"NODE_ENV": "production"}, signal.SIGTERM)
    assert "production" not in out


def body_limit(gw: GatewayDouble, tmp: Path) -> None:
    big = b"{" + b" " * BODY_LIMIT + b"}"
    r = requests.post(f"{gw.url}/api/v1/auth/login", data=big, headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 413


def json_request_lines(gw: GatewayDouble, tmp: Path) -> None:
    _, out = run_process(tmp, "logging:\n  level: debug\n", {}, signal.SIGTERM)
    [line] = [json.loads(x) for x in out.splitlines() if '"Request completed"' in x]
    assert line["level"] == "debug" and line["time"].endswith("Z") and line["url"] == "/health"
    assert line["statusCode"] == 200 and isinstance(line["responseTime"], float)


def banner_at_start(gw: GatewayDouble, tmp: Path) -> None:
    log = io.StringIO()
    with GatewayDouble(ADMIN_KEY, log=log):
        pass
    lines = log.getvalue().splitlines()
    # The log of a fresh start begins with a blank line and the 10-line text banner.
    assert lines[0] == ""
    banner = lines[1:11]
    assert len(banner) == 10 and not any(line.startswith("{") for line in banner), lines
    assert all(line.startswith("{") for line in lines[11:]), lines


def plain_lines_at_stop(gw: GatewayDouble, tmp: Path) -> None:
    _, out = run_process(tmp, None, {}, signal.SIGTERM)
    assert out.splitlines()[-2:] == ["Received SIGTERM, shutting down...", "Shutdown complete."]


def exposition_format(gw: GatewayDouble, tmp: Path) -> None:
    r = requests.get(
        f"{gw.url}/metrics", headers={"X-API-Key": ADMIN_KEY, "Accept-Encoding": "gzip"}, timeout=TIMEOUT, stream=True
    )
    assert r.headers["Content-Type"] == CONTENT_TYPE and r.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(r.raw.read()).startswith(b"# HELP ")


def metrics_admin_only(gw: GatewayDouble, tmp: Path) -> None:
    assert get(gw, "/metrics").status_code == 401
    assert get(gw, "/metrics", **{"X-API-Key": "unknown-key"}).status_code == 401
    assert get(gw, "/metrics", **{"X-API-Key": VIEWER_KEY}).status_code == 403
    assert get(gw, "/metrics", **{"X-API-Key": ADMIN_KEY}).status_code == 200


def api_key_only_in_x_api_key(gw: GatewayDouble, tmp: Path) -> None:
    r = get(gw, "/metrics", Authorization=f"Bearer {ADMIN_KEY}")
    assert r.status_code == 401 and r.json() == {"error": "Invalid or expired token"}


def bearer_is_jwt_with_expiry(gw: GatewayDouble, tmp: Path) -> None:
    assert get(gw, "/metrics", Authorization=f"Bearer {gw.jwt()}").status_code == 200
    assert get(gw, "/metrics", Authorization=f"Bearer {gw.jwt(expires_in=-1)}").status_code == 401
    assert get(gw, "/metrics", Authorization=f"Bearer {gw.jwt(role='viewer')}").status_code == 403


def metrics_cost_grows_with_audit(gw: GatewayDouble, tmp: Path) -> None:
    def duration(entries: int) -> float:
        gw.values.update({AUDIT_ENTRIES: entries})
        started = time.monotonic()
        assert get(gw, "/metrics", **{"X-API-Key": ADMIN_KEY}).status_code == 200
        return time.monotonic() - started

    small, large = duration(7), duration(20_000)
    # 20k entries at about 15 us each: about 0.3 s more than 7 entries.
    assert 0.25 < large - small < 0.6, (small, large)


def health_is_constant(gw: GatewayDouble, tmp: Path) -> None:
    gw.values.update({"friday_audit_chain_valid": 0})
    body = get(gw, "/health").json()
    assert body["status"] == "ok" and body["checks"] == {"database": True, "auditChain": True}


def login_issues_expiring_jwt(gw: GatewayDouble, tmp: Path) -> None:
    body = requests.post(f"{gw.url}/api/v1/auth/login", json={"password": "pw"}, timeout=TIMEOUT).json()
    assert body["tokenType"] == "Bearer" and body["expiresIn"] == 3600
    assert body["accessToken"].count(".") == 2
    assert get(gw, "/metrics", Authorization=f"Bearer {body['accessToken']}").status_code == 200


def json_errors(gw: GatewayDouble, tmp: Path) -> None:
    for r in (get(gw, "/metrics"), get(gw, "/api/v1/tasks", **{"X-API-Key": "nope"})):
        assert set(r.json()) == {"error"}


def comms_404_when_off(gw: GatewayDouble, tmp: Path) -> None:
    assert get(gw, "/api/v1/comms/identity").status_code == 404
    assert get(gw, "/api/v1/comms/peers", **{"X-API-Key": ADMIN_KEY}).status_code == 404
    assert get(gw, "/api/v1/tasks").status_code == 401  # other routes still demand a credential
    with GatewayDouble(ADMIN_KEY, config=GatewayConfig(comms_enabled=True)) as on:
        assert get(on, "/api/v1/comms/identity").status_code == 401


def websocket_needs_upgrade(gw: GatewayDouble, tmp: Path) -> None:
    assert get(gw, "/ws/metrics", **{"X-API-Key": ADMIN_KEY}).status_code == 404
    url = f"ws://127.0.0.1:{gw.port}/ws/metrics"

    async def scenario() -> int:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url, open_timeout=TIMEOUT):
                pass
        async with connect(url, additional_headers={"X-API-Key": ADMIN_KEY}, open_timeout=TIMEOUT) as ws:
            assert json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))["type"] == "metrics"
        return refused.value.response.status_code

    assert asyncio.run(scenario()) == 401


CHECKS: dict[str, Callable[[GatewayDouble, Path], None]] = {
    "private-clients-only": private_clients_only,
    "sighup-kills": sighup_kills,
    "log-level-from-config": log_level_from_config,
    "unknown-level-refused": unknown_level_refused,
    "environment-from-env": environment_from_env,
    "body-limit": body_limit,
    "json-request-lines": json_request_lines,
    "banner-at-start": banner_at_start,
    "plain-lines-at-stop": plain_lines_at_stop,
    "exposition-format": exposition_format,
    "metrics-admin-only": metrics_admin_only,
    "api-key-only-in-x-api-key": api_key_only_in_x_api_key,
    "bearer-is-jwt-with-expiry": bearer_is_jwt_with_expiry,
    "metrics-cost-grows-with-audit": metrics_cost_grows_with_audit,
    "health-is-constant": health_is_constant,
    "login-issues-expiring-jwt": login_issues_expiring_jwt,
    "json-errors": json_errors,
    "comms-404-when-off": comms_404_when_off,
    "websocket-needs-upgrade": websocket_needs_upgrade,
}


def test_every_tagged_fact_has_a_check() -> None:
    tags = doc_tags()
    assert len(tags) == len(set(tags)), f"a tag appears twice in {DOC.name}"
    assert set(tags) == set(CHECKS), {"no check": set(tags) - set(CHECKS), "no fact": set(CHECKS) - set(tags)}


@pytest.mark.parametrize("fact", doc_tags())
def test_the_double_has_the_fact(fact: str, gw: GatewayDouble, tmp_path: Path) -> None:
    CHECKS[fact](gw, tmp_path)
