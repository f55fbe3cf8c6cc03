"""Options of the host suite and what they resolve to: where the gateway, Prometheus, logs and backups are.

Defaults come from the stack settings (`--friday-stack`) and from `pulumi stack output --json`
(`--friday-outputs`); explicit options win. Paths are paths on the tested host; `--friday-root`
prefixes every one of them (a bare-metal layout installed under a folder, as `make test` does).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest

from infra.alerting import rules
from infra.host import backup as host_backup
from infra.host import layout
from infra.monitoring import endpoints
from infra.settings import Settings, load_stack
from infra.stack import backup

Mode = Literal["baremetal", "docker"]
MODES: tuple[Mode, ...] = ("baremetal", "docker")
GATEWAY_JOB = rules.GATEWAY_JOB
LOGROTATE_CONF = layout.INSTALL["logrotate/friday"]


def add_options(parser: pytest.Parser) -> None:
    g = parser.getgroup("friday", "friday host checks (tests/infra)")
    g.addoption("--friday-mode", choices=MODES, help="which deployment to check: baremetal or docker")
    g.addoption("--friday-stack", default="dev", help="stack whose settings give the defaults (Pulumi.<stack>.yaml)")
    g.addoption("--friday-outputs", type=Path, help="JSON of `pulumi stack output --json` for that stack")
    g.addoption("--friday-root", default="", help="prefix of every host path (a layout installed under a folder)")
    g.addoption("--friday-gateway-url", help="gateway base URL as seen from the host (default: outputs, settings)")
    g.addoption(
        "--friday-prometheus-url",
        help="Prometheus URL as seen from the host (default: outputs; else 127.0.0.1 with the stack's "
        "prometheusHostPort in docker mode, Prometheus's own port on bare metal)",
    )
    g.addoption("--friday-gateway-job", default=GATEWAY_JOB, help="Prometheus job name of the gateway target")
    g.addoption(
        "--friday-metrics-token-file", help="file ON THE HOST holding the admin key /metrics needs (gateway 0.1.0)"
    )
    g.addoption("--friday-metrics-token-env", help="environment variable ON THE HOST holding that key instead")
    g.addoption("--friday-log-file", help="bare metal: the gateway's log file (default: hostLogDir/gateway.log)")
    g.addoption("--friday-logrotate-conf", default=LOGROTATE_CONF, help="bare metal: logrotate file of that log")
    g.addoption("--friday-backup-dir", help="bare metal: backup folder (default: backupHostDir)")
    g.addoption("--friday-backup-max-age-hours", type=float, help="default: the stack's backupStaleAfterHours")


@dataclass(frozen=True)
class HostConfig:
    mode: Mode
    settings: Settings
    root: str
    gateway_url: str
    prometheus_url: str
    gateway_job: str
    token_file: str | None
    token_env: str | None
    log_file: str
    logrotate_conf: str
    backup_dir: str
    backup_max_age_s: float
    containers: dict[str, str] = field(default_factory=dict)
    volumes: dict[str, str] = field(default_factory=dict)

    def path(self, host_path: str) -> str:
        """A host path under --friday-root."""
        return f"{self.root.rstrip('/')}{host_path}" if self.root else host_path

    @property
    def gateway_config(self) -> str:
        """Bare metal: where the rendered host/gateway/gateway.yaml is installed."""
        return self.path(layout.CONFIG_PATH)

    @property
    def tool_dir(self) -> str:
        return self.path(host_backup.HOST_TOOL_DIR)

    @property
    def textfile(self) -> str:
        return self.path(host_backup.textfile_path(self.settings))

    @property
    def has_token(self) -> bool:
        return bool(self.token_file or self.token_env)

    def container(self, service: str) -> str:
        return self.containers.get(service) or f"{self.settings.name_prefix}-{self.settings.stack}-{service}"

    def volume(self, name: str) -> str:
        return self.volumes.get(name) or f"{self.settings.name_prefix}-{self.settings.stack}-{name}"


def resolve(config: pytest.Config) -> HostConfig:
    mode = config.getoption("friday_mode")
    if mode is None:
        raise pytest.UsageError("tests/infra needs --friday-mode baremetal|docker (see README: host checks)")
    settings = load_stack(config.getoption("friday_stack"))
    outputs: dict[str, Any] = {}
    if path := config.getoption("friday_outputs"):
        try:
            outputs = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise pytest.UsageError(f"--friday-outputs {path}: cannot read it as JSON ({err})") from err
    default_gateway = f"http://127.0.0.1:{settings.gateway_host_port}"
    # Docker publishes Prometheus on prometheusHostPort; on bare metal it listens on its own port.
    prometheus_port = settings.prometheus_host_port if mode == "docker" else endpoints.PROMETHEUS_PORT
    default_prometheus = f"http://127.0.0.1:{prometheus_port}"
    root = config.getoption("friday_root")
    return HostConfig(
        mode=mode,
        settings=settings,
        root=root,
        gateway_url=(config.getoption("friday_gateway_url") or outputs.get("gatewayUrl") or default_gateway).rstrip(
            "/"
        ),
        prometheus_url=(
            config.getoption("friday_prometheus_url") or outputs.get("prometheusUrl") or default_prometheus
        ).rstrip("/"),
        gateway_job=config.getoption("friday_gateway_job"),
        token_file=config.getoption("friday_metrics_token_file"),
        token_env=config.getoption("friday_metrics_token_env"),
        log_file=config.getoption("friday_log_file") or layout.log_file(settings),
        logrotate_conf=config.getoption("friday_logrotate_conf"),
        backup_dir=config.getoption("friday_backup_dir") or settings.backup_host_dir,
        backup_max_age_s=3600 * (config.getoption("friday_backup_max_age_hours") or settings.backup_stale_after_hours),
        containers=dict(outputs.get("containers") or {}),
        volumes=dict(outputs.get("volumes") or {}),
    )


# The backup container's view of its volume (Docker mode).
DOCKER_BACKUP_DIR = backup.BACKUP_DIR
