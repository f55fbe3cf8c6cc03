"""The real SecureYeoman gateway 0.1.0, built from its source by scripts/build-gateway.sh, as a process.

Tests that talk to the gateway run this, not the double (docs/real-gateway.md). `real_gateway_build()`
finds or builds it once per process; when no source is available the test is skipped with the reason,
except under CI=true, where a missing real gateway fails the run (never a silent pass).

    with RealGateway.start(tmp_path) as gw:
        key = gw.create_api_key("admin")
        requests.get(f"{gw.url}/metrics", headers={"X-API-Key": key})
"""

from __future__ import annotations

import functools
import os
import secrets
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from testbed.paths import REPO_ROOT
from testbed.processes import free_port, stop, wait_healthy

BUILD_SCRIPT = REPO_ROOT / "scripts" / "build-gateway.sh"
ENTRY = Path("app/packages/core/dist/cli.js")
START_TIMEOUT_S = 30.0
BUILD_TIMEOUT_S = 1800
TIMEOUT = 10
# Exit code of the build script when there is no source (2) or no toolchain (3): the gateway cannot be
# had here, which is a skip outside CI; anything else is a broken build, always a failure.
UNAVAILABLE = (2, 3)

# The secrets the gateway requires at start (its validateSecrets), with values of the accepted shape.
SECRET_ENV = (
    "SECUREYEOMAN_SIGNING_KEY",
    "SECUREYEOMAN_TOKEN_SECRET",
    "SECUREYEOMAN_ENCRYPTION_KEY",
    "SECUREYEOMAN_ADMIN_PASSWORD",
)


class GatewayUnavailableError(Exception):
    """No real gateway can be built here (no source or no toolchain); the message says why."""


@functools.cache
def _build() -> Path | GatewayUnavailableError:
    proc = subprocess.run(
        [str(BUILD_SCRIPT)], capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, cwd=REPO_ROOT, check=False
    )
    if proc.returncode in UNAVAILABLE:
        lines = proc.stderr.strip().splitlines()
        return GatewayUnavailableError(lines[-1] if lines else "no reason given")
    if proc.returncode != 0:
        raise RuntimeError(f"scripts/build-gateway.sh failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    return Path(proc.stdout.strip().splitlines()[-1])


def build_dir() -> Path:
    """The real gateway's build folder (node, app/), or GatewayUnavailableError."""
    built = _build()
    if isinstance(built, GatewayUnavailableError):
        raise built
    return built


def require_build() -> Path:
    """The build folder; skips the calling test with the reason when the gateway cannot be had here,
    and fails it under CI=true (CI must run against the real gateway)."""
    try:
        return build_dir()
    except GatewayUnavailableError as err:
        message = f"the real gateway is not available here: {err} (docs/real-gateway.md)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; under CI=true the real gateway is required", pytrace=False)
        pytest.skip(message)


def gateway_command(build: Path, args: Sequence[str] = ()) -> list[str]:
    """The command that starts the built gateway: its Node binary, its CLI entry point, the arguments."""
    return [str(build / "node"), str(build / ENTRY), *args]


def secret_env(admin_password: str | None = None) -> dict[str, str]:
    """Fresh values for every secret the gateway requires (the AI key is a placeholder: no call is made)."""
    values = {name: secrets.token_urlsafe(48) for name in SECRET_ENV}
    if admin_password is not None:
        values["SECUREYEOMAN_ADMIN_PASSWORD"] = admin_password
    values["ANTHROPIC_API_KEY"] = "sk-ant-placeholder-" + secrets.token_hex(8)
    return values


def minimal_config(data_dir: Path, port: int, *, level: str = "info", host: str = "127.0.0.1") -> dict[str, Any]:
    return {
        "core": {"dataDir": str(data_dir)},
        "gateway": {"host": host, "port": port},
        "logging": {"level": level, "output": [{"type": "stdout", "format": "json"}]},
    }


def login(url: str, password: str) -> str:
    """An admin JWT from the gateway at `url` (POST /api/v1/auth/login with the admin password)."""
    r = requests.post(f"{url}/api/v1/auth/login", json={"password": password}, timeout=TIMEOUT)
    assert r.status_code == 200, (r.status_code, r.text)
    return str(r.json()["accessToken"])


def create_api_key(url: str, token: str, *, role: str = "admin", name: str = "test") -> str:
    """A new API key with `role` (POST /api/v1/auth/api-keys with an admin JWT): what an operator does
    to get the scrape credential, which the gateway keeps in its database."""
    r = requests.post(
        f"{url}/api/v1/auth/api-keys",
        json={"name": name, "role": role},
        headers={"Authorization": f"Bearer {token}"},
        timeout=TIMEOUT,
    )
    assert r.status_code == 201, (r.status_code, r.text)
    return str(r.json()["key"])


@dataclass
class RealGateway:
    """A running real gateway; stdout and stderr go to `log_path`."""

    proc: subprocess.Popen[bytes]
    url: str
    admin_password: str
    log_path: Path
    data_dir: Path
    _token: str | None = field(default=None, repr=False)

    @classmethod
    def start(
        cls,
        workdir: Path,
        *,
        config: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
        args: Sequence[str] = (),
        environment: str = "development",
        level: str = "info",
        port: int | None = None,
        wait: bool = True,
    ) -> RealGateway:
        """Start the gateway in `workdir` with a config file there (default: loopback, a free port,
        data in workdir/data, JSON on stdout) and fresh secrets (overridden by `env`)."""
        build = require_build()
        workdir.mkdir(parents=True, exist_ok=True)
        data_dir = workdir / "data"
        port = port or free_port()
        cfg = dict(config) if config is not None else minimal_config(data_dir, port, level=level)
        data_dir = Path(cfg.get("core", {}).get("dataDir", data_dir))
        gw_cfg = cfg.get("gateway", {})
        port = int(gw_cfg.get("port", port))
        host = str(gw_cfg.get("host", "127.0.0.1"))
        config_path = workdir / "gateway.yaml"
        config_path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
        password = secrets.token_urlsafe(24)
        full_env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(workdir),
            "SECUREYEOMAN_ENV": environment,
            **secret_env(password),
            **(env or {}),
        }
        log_path = workdir / "gateway.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                gateway_command(build, ["--config", str(config_path), *args]),
                cwd=workdir,
                env=full_env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        connect_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        gw = cls(proc, f"http://{connect_host}:{port}", full_env["SECUREYEOMAN_ADMIN_PASSWORD"], log_path, data_dir)
        if wait:
            try:
                gw.wait_healthy()
            except BaseException:
                gw.stop()
                raise
        return gw

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_healthy(self, timeout: float = START_TIMEOUT_S) -> None:
        wait_healthy(self.proc, f"{self.url}/health", "the real gateway", self.log, timeout)

    def login(self) -> str:
        """An admin JWT from POST /api/v1/auth/login (cached: the login limit is 5 per 15 minutes)."""
        if self._token is None:
            self._token = login(self.url, self.admin_password)
        return self._token

    def create_api_key(self, role: str = "admin", name: str = "test") -> str:
        """A new API key with `role`, created through the API as an operator would."""
        return create_api_key(self.url, self.login(), role=role, name=name)

    def signal(self, sig: signal.Signals) -> int:
        """Send `sig`, wait for the exit, return the exit code."""
        self.proc.send_signal(sig)
        return self.proc.wait(TIMEOUT)

    def stop(self) -> None:
        stop(self.proc)

    def __enter__(self) -> RealGateway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_once(
    workdir: Path, config: Mapping[str, Any] | None, env: Mapping[str, str], timeout: float = START_TIMEOUT_S
) -> tuple[int | None, str]:
    """Start the gateway and wait for its exit (None if still running after `timeout`, then stopped):
    for configurations it must refuse at start."""
    gw = RealGateway.start(workdir, config=config, env=env, wait=False)
    try:
        code: int | None = gw.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        code = None
    finally:
        gw.stop()
    return code, gw.log()
