"""Run the rendered reverse proxy configuration for real on 127.0.0.1.

The configuration text comes from the same functions the stack uses (infra.stack.proxy); only
the places differ: free loopback ports, a local upstream (the real gateway), a test certificate,
and a temporary folder for pid, temp files and logs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.settings import Settings
from infra.stack import proxy
from infra.stack.nginx_runtime import NginxRuntime
from infra.stack.proxy_config import ProxyParams, caddyfile, nginx_conf
from testbed.processes import free_port, running
from testbed.settings import settings_of
from tests.support.tls import CertFiles


def tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    assert found, f"{name} is not installed (scripts/bootstrap.sh dev installs it)"
    return found


def proxy_settings(kind: str, **plain: Any) -> Settings:
    values: dict[str, Any] = {"proxyEnabled": True, "proxyKind": kind}
    if kind == "caddy":
        values["proxyRateLimitPerSecond"] = 0
        values["proxyLoginRateLimitPerMinute"] = 0
    values.update(plain)
    return settings_of(values, stack="dev")


def workdir() -> Path:
    # Not under pytest's 0700 tmp folders: nginx workers started by root run as nobody and must
    # reach their temp files.
    folder = Path(tempfile.mkdtemp(prefix="friday-proxy-"))
    folder.chmod(0o755)
    return folder


def local_params(settings: Settings, cert: CertFiles, upstream_port: int, folder: Path) -> ProxyParams:
    https_port = free_port()
    return dataclasses.replace(
        proxy.params(settings),
        http_listen=f"127.0.0.1:{free_port()}",
        https_listen=f"127.0.0.1:{https_port}",
        https_public_port=https_port,
        upstream=f"127.0.0.1:{upstream_port}",
        cert_path=str(cert.cert),
        key_path=str(cert.key),
        nginx_runtime=NginxRuntime(str(folder), str(folder / "error.log"), str(folder / "access.log")),
        caddy_storage_dir=str(folder / "caddy-storage"),
    )


def config_for(kind: str, params: ProxyParams) -> str:
    return nginx_conf(params) if kind == "nginx" else caddyfile(params)


def port_of(listen: str) -> int:
    return int(listen.rpartition(":")[2])


def check_command(kind: str, config: Path, folder: Path) -> list[str]:
    if kind == "nginx":
        return [
            *[tool("nginx"), "-t", "-p", str(folder), "-e", str(folder / "error.log")],
            *["-c", str(config), "-g", "daemon off;"],
        ]
    return [tool("caddy"), "validate", "--adapter", "caddyfile", "--config", str(config)]


def run_command(kind: str, config: Path, folder: Path) -> list[str]:
    if kind == "nginx":
        return [
            tool("nginx"),
            "-p",
            str(folder),
            "-e",
            str(folder / "error.log"),
            "-c",
            str(config),
            "-g",
            "daemon off;",
        ]
    return [tool("caddy"), "run", "--adapter", "caddyfile", "--config", str(config)]


def caddy_env(folder: Path) -> dict[str, str]:
    # Caddy keeps its data and autosaved config under these; never in the real home.
    return {
        **os.environ,
        "HOME": str(folder),
        "XDG_DATA_HOME": str(folder / "data"),
        "XDG_CONFIG_HOME": str(folder / "config"),
    }


def write_config(kind: str, params: ProxyParams, folder: Path) -> Path:
    path = folder / proxy.CONFIG_FILE[kind]
    path.write_text(config_for(kind, params), encoding="utf-8")
    return path


def check(kind: str, params: ProxyParams, folder: Path) -> subprocess.CompletedProcess[str]:
    config = write_config(kind, params, folder)
    return subprocess.run(  # noqa: PLW1510 - the return code is the result
        check_command(kind, config, folder), capture_output=True, text=True, timeout=60, env=caddy_env(folder)
    )


@dataclass(frozen=True)
class LocalProxy:
    kind: str
    params: ProxyParams
    folder: Path
    pid: int

    @property
    def https_url(self) -> str:
        return f"https://localhost:{port_of(self.params.https_listen)}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{port_of(self.params.http_listen)}"

    @property
    def wss_url(self) -> str:
        return f"wss://localhost:{port_of(self.params.https_listen)}"


# The containers run the proxies as a non-root user; so do the live tests when started as root.
UNPRIVILEGED = 65534  # nobody


def as_unprivileged(folder: Path, cert: CertFiles) -> tuple[list[str], CertFiles]:
    """A command prefix dropping root (when root), and the certificate copied where that user reads it."""
    own = CertFiles(folder / "cert.pem", folder / "key.pem")
    shutil.copy(cert.cert, own.cert)
    shutil.copy(cert.key, own.key)
    own.key.chmod(0o400)
    return drop_root(folder), own


def drop_root(folder: Path) -> list[str]:
    """When root: give folder (and what is in it) to nobody, and the command prefix that runs as nobody."""
    if os.geteuid() != 0:
        return []
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, UNPRIVILEGED, UNPRIVILEGED)
    setpriv = shutil.which("setpriv")
    assert setpriv, "setpriv (util-linux) is needed to run the servers as a non-root user"
    return [setpriv, f"--reuid={UNPRIVILEGED}", f"--regid={UNPRIVILEGED}", "--clear-groups"]


@contextlib.contextmanager
def run_proxy(
    kind: str, settings: Settings, cert: CertFiles, upstream_port: int, edit: Callable[[str], str] | None = None
) -> Iterator[LocalProxy]:
    """The rendered proxy of `kind`, running; `edit` changes its configuration text first (a
    test's deliberately broken proxy)."""
    folder = workdir()
    try:
        prefix, own_cert = as_unprivileged(folder, cert)
        params = local_params(settings, own_cert, upstream_port, folder)
        config = write_config(kind, params, folder)
        if edit is not None:
            config.write_text(edit(config.read_text(encoding="utf-8")), encoding="utf-8")
        ports = [port_of(params.http_listen), port_of(params.https_listen)]
        command = prefix + run_command(kind, config, folder)
        with running(command, folder / "process.log", ports, env=caddy_env(folder)) as proc:
            yield LocalProxy(kind, params, folder, proc.pid)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
