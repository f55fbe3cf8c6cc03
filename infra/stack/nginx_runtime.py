"""Where an nginx process keeps its pid, temporary files and logs.

The containers run nginx as a non-root user on a read-only root filesystem, so every writable
path sits under the tmpfs /tmp; the tests point the same fields at a temporary folder.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NginxRuntime:
    temp_dir: str = "/tmp"
    error_log: str = "stderr"
    access_log: str = "/dev/stdout"

    @property
    def pid(self) -> str:
        return f"{self.temp_dir}/nginx.pid"


CONTAINER_RUNTIME = NginxRuntime()


def main_context(runtime: NginxRuntime, worker_connections: int) -> list[str]:
    """The lines before `http {`: pid and error log where a non-root nginx may write them."""
    return [
        "worker_processes auto;",
        f"pid {runtime.pid};",
        f"error_log {runtime.error_log} warn;",
        "",
        f"events {{ worker_connections {worker_connections}; }}",
        "",
    ]


def http_runtime(runtime: NginxRuntime) -> list[str]:
    """The `http {}` lines that move every temporary file path under the writable folder."""
    lines = [f"{kind}_temp_path {runtime.temp_dir}/{kind}_temp;" for kind in ("client_body", "proxy")]
    lines += [f"{kind}_temp_path {runtime.temp_dir}/{kind}_temp;" for kind in ("fastcgi", "uwsgi", "scgi")]
    return [*lines, "server_tokens off;"]


def indent(lines: list[str], depth: int = 1) -> list[str]:
    return [("    " * depth + line) if line else "" for line in lines]
