"""Prometheus' remote_write section from the stack's remote-write targets (infra/settings/remote_write.py).

Each target's credential is a file of its own beside prometheus.yml (`remote-write/<name>`, a path
relative to the config folder, as Prometheus resolves it), read through `password_file` (basic auth)
or `credentials_file` (bearer): the rendered configuration never holds a credential. Every sample
sent carries the global external labels, `environment` among them (infra/monitoring/prometheus_config.py).
"""

from __future__ import annotations

from typing import Any

from infra.monitoring import endpoints
from infra.settings import Settings
from infra.settings.remote_write import PROMETHEUS_QUEUE_KEYS, RemoteWriteTarget

CREDENTIALS_DIR = "remote-write"


def credential_file(target: RemoteWriteTarget) -> str:
    """The credential's path relative to the config folder."""
    return f"{CREDENTIALS_DIR}/{target.name}"


def credential_path(target: RemoteWriteTarget, config_dir: str = endpoints.PROMETHEUS_CONFIG_DIR) -> str:
    return f"{config_dir}/{credential_file(target)}"


def entry(target: RemoteWriteTarget) -> dict[str, Any]:
    config: dict[str, Any] = {"name": target.name, "url": target.url}
    if target.auth == "basic":
        config["basic_auth"] = {"username": target.username, "password_file": credential_file(target)}
    elif target.auth == "bearer":
        config["authorization"] = {"type": "Bearer", "credentials_file": credential_file(target)}
    config["queue_config"] = {PROMETHEUS_QUEUE_KEYS[k]: v for k, v in target.queue.items()}
    return config


def remote_write(settings: Settings) -> list[dict[str, Any]]:
    return [entry(t) for t in settings.remote_write]


def with_credentials(settings: Settings) -> tuple[RemoteWriteTarget, ...]:
    return tuple(t for t in settings.remote_write if t.credential_key is not None)
