"""The gateway's systemd unit, checked by systemd-analyze and read back key by key."""

from __future__ import annotations

import configparser
import subprocess
from pathlib import Path

import pytest

from infra.host import layout
from infra.host.systemd import gateway_unit
from infra.stack import gateway
from testbed.settings import settings_of
from tests.support.host import fake_gateway
from tests.support.systemd import parse_unit


def verify(unit_text: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / layout.UNIT
    path.write_text(unit_text)
    return subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )


@pytest.mark.parametrize("target", ["file", "journal"])
def test_systemd_analyze_verify_is_silent(target: str, tmp_path: Path) -> None:
    settings = settings_of({**fake_gateway(tmp_path), "hostLogTarget": target})
    done = verify(gateway_unit(settings), tmp_path)
    # Unknown keys, bad values and a missing ExecStart binary only warn: any output is a failure.
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and done.stdout == ""


def test_verify_would_catch_an_unknown_key_or_missing_binary(tmp_path: Path) -> None:
    settings = settings_of(fake_gateway(tmp_path))
    text = gateway_unit(settings).replace("[Service]\n", "[Service]\nProtectKernelEverything=yes\n")
    assert "Unknown key 'ProtectKernelEverything'" in verify(text, tmp_path).stderr
    missing = gateway_unit(settings_of({"hostGatewayExec": str(tmp_path / "no-such-node")}))
    assert "no-such-node" in verify(missing, tmp_path).stderr


def test_unit_runs_simple_restarts_and_never_sends_sighup() -> None:
    unit = parse_unit(gateway_unit(settings_of()))
    service = unit["Service"]
    assert service["Type"] == ["simple"]
    assert service["User"] == ["friday"] and service["Group"] == ["friday"]
    assert service["Restart"] == ["on-failure"]
    assert service["RestartSec"] == ["5s"]
    assert service["KillSignal"] == ["SIGTERM"]
    assert service["SendSIGHUP"] == ["no"]
    assert "ExecReload" not in service
    assert "HUP" not in gateway_unit(settings_of()).replace("SendSIGHUP=no", "").replace("SIGHUP", "")
    assert service["ExecStart"] == [
        "/usr/bin/node /opt/secureyeoman/packages/core/dist/cli.js --config " + layout.CONFIG_PATH
    ]
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]


def test_sandboxing_and_limits_follow_the_settings() -> None:
    s = settings_of({"gatewayMemoryMb": 1536, "gatewayCpuMillicores": 1500, "hostDataDir": "/srv/friday"})
    service = parse_unit(gateway_unit(s))["Service"]
    assert service["MemoryMax"] == ["1536M"]
    assert service["CPUQuota"] == ["150%"]
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "ProtectKernelTunables": "yes",
        "ProtectKernelModules": "yes",
        "ProtectKernelLogs": "yes",
        "ProtectControlGroups": "yes",
        "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
        "CapabilityBoundingSet": "",
    }.items():
        assert service[key] == [value], key
    assert service["ReadWritePaths"] == ["/srv/friday /var/log/friday"]
    assert service["WorkingDirectory"] == ["/srv/friday"]


def test_stdout_is_appended_to_the_log_file_or_sent_to_the_journal() -> None:
    file_unit = parse_unit(gateway_unit(settings_of({"hostLogDir": "/var/log/gw"})))["Service"]
    assert file_unit["StandardOutput"] == ["append:/var/log/gw/gateway.log"]
    assert file_unit["StandardError"] == ["inherit"]
    journal_unit = parse_unit(gateway_unit(settings_of({"hostLogTarget": "journal"})))["Service"]
    assert journal_unit["StandardOutput"] == ["journal"]
    assert journal_unit["LogRateLimitIntervalSec"] == ["0"], "journald's rate limit would drop lines"
    assert journal_unit["ReadWritePaths"] == [gateway.DATA_DIR], "no log folder to write in journal mode"


def test_secrets_stay_out_of_the_unit() -> None:
    s = settings_of({"aiProvider": "openai"})
    service = parse_unit(gateway_unit(s))["Service"]
    plain = dict(v.split("=", 1) for v in service["Environment"])
    assert plain["SECUREYEOMAN_HOST"] == "127.0.0.1"
    assert plain["SECUREYEOMAN_PORT"] == "18789"
    secret_vars = set(gateway.SECRET_ENV.values()) | set(gateway.PROVIDER_ENV.values())
    assert not secret_vars & set(plain)
    assert service["EnvironmentFile"] == [layout.ENV_PATH]


def test_unit_is_valid_ini_for_other_readers() -> None:
    # configparser (strict=False tolerates repeated keys) stands in for any INI-reading tool.
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(gateway_unit(settings_of()))
    assert parser.sections() == ["Unit", "Service", "Install"]
