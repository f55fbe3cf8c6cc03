"""Logs are rotated: logrotate on bare metal (copytruncate: the gateway never reopens its file), Docker options."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

import pytest

from infra.logs.lines import records
from infra.stack import backup, gateway
from tests.infra.options import HostConfig

PERIODS_H = {"hourly": 1, "daily": 24, "weekly": 24 * 7, "monthly": 24 * 31, "yearly": 24 * 366}
# Time after a period ends before a missing rotation counts: cron/timer delay and a day of slack.
SLACK_H = 25


def _conf_text(host: Any, friday: HostConfig) -> str:
    conf = host.file(friday.path(friday.logrotate_conf))
    assert conf.exists and conf.is_file, f"no logrotate config at {conf.path}"
    return str(conf.content_string)


@pytest.mark.baremetal
def test_logrotate_config_is_present_safe_and_valid(host: Any, friday: HostConfig) -> None:
    conf = host.file(friday.path(friday.logrotate_conf))
    text = _conf_text(host, friday)
    # logrotate silently ignores a group- or world-writable config (exit code 0).
    assert conf.mode & 0o022 == 0, f"{conf.path} is group/world-writable (mode {conf.mode:o}): logrotate ignores it"
    log = friday.path(friday.log_file)
    assert str(PurePosixPath(log).parent) in text, f"{conf.path} does not name {log}'s folder"
    # The gateway never reopens its log and dies on SIGHUP (docs/gateway.md).
    assert "copytruncate" in text
    assert not re.search(r"kill\s+-(HUP|USR1|1|10)\b", text), "signals would kill the gateway or open its debugger"
    done = host.run(f"logrotate -d -s /dev/null {conf.path}")
    output = done.stdout + done.stderr
    assert done.rc == 0, output
    assert "error:" not in output, output
    assert "Ignoring" not in output, output
    assert log in output or str(PurePosixPath(log).parent) in output, output


def _rotated(host: Any, log_path: str) -> list[str]:
    """Rotated siblings of the log (gateway.log.1, gateway.log.2.gz, gateway.log-20261124...)."""
    folder = host.file(str(PurePosixPath(log_path).parent))
    base = PurePosixPath(log_path).name
    return sorted(f"{folder.path}/{n}" for n in folder.listdir() if n.startswith(base) and n != base)


@pytest.mark.baremetal
def test_gateway_log_is_written(host: Any, friday: HostConfig) -> None:
    log = host.file(friday.path(friday.log_file))
    assert log.exists and log.is_file, f"no gateway log at {log.path}"
    if log.size == 0:
        # Just truncated by copytruncate and nothing logged since: the rotated copy has the lines.
        assert _rotated(host, log.path), f"{log.path} is empty and was never rotated: nothing logs to it"
        return
    # The gateway starts its stdout with a blank line and a text banner: those are kept as text.
    found = records(log.content_string)
    assert found, f"{log.path} has no pino JSON line (only text: banner or stop lines?)"
    assert found[0]["time"], "the gateway log is not pino JSON lines"


@pytest.mark.baremetal
def test_log_has_rotated_once_the_host_is_old_enough(host: Any, friday: HostConfig) -> None:
    """Either a rotated file exists, or the current log is younger than one rotation period (+ slack)."""
    text = _conf_text(host, friday)
    period = next((h for word, h in PERIODS_H.items() if re.search(rf"^\s*{word}\b", text, re.MULTILINE)), 24)
    log = host.file(friday.path(friday.log_file))
    rotated = _rotated(host, log.path)
    if rotated:
        assert any(host.file(r).size > 0 for r in rotated), f"rotated files are empty: {rotated}"
        return
    found = records(log.content_string)
    assert found, f"{log.path} has no pino JSON line and was never rotated: nothing logs to it"
    first = found[0]
    age_h = (time.time() - datetime.fromisoformat(first["time"].replace("Z", "+00:00")).timestamp()) / 3600
    assert age_h < period + SLACK_H, (
        f"{log.path} starts {age_h:.0f}h ago and was never rotated (period {period}h): logrotate is not running"
    )


@pytest.mark.docker
def test_every_container_rotates_its_log(host: Any, friday: HostConfig) -> None:
    prefix = f"{friday.settings.name_prefix}-{friday.settings.stack}-"
    done = host.run(f"docker ps -a --filter name=^{prefix} --format '{{{{.Names}}}}'")
    assert done.rc == 0, done.stderr
    names = sorted(done.stdout.split())
    for service in (gateway.NAME, backup.NAME):
        assert friday.container(service) in names, f"no container {friday.container(service)}; found {names}"
    for name in names:
        inspect = host.run(f"docker inspect --format '{{{{json .HostConfig.LogConfig}}}}' {name}")
        assert inspect.rc == 0, inspect.stderr
        log = json.loads(inspect.stdout)
        assert log["Type"] == "json-file", f"{name}: log driver {log['Type']}"
        assert log["Config"].get("max-size") == friday.settings.docker_log_max_size, f"{name}: {log}"
        assert log["Config"].get("max-file") == str(friday.settings.docker_log_max_files), f"{name}: {log}"
