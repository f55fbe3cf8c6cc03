"""The gateway's unit and the bare-metal backup unit agree on whose data they touch, whatever the
settings: same user and group, same data folder (also the gateway config's core.dataDir and the
tmpfiles entry that creates it)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from infra.host import artefacts, layout
from infra.host import backup as host_backup
from infra.host.systemd import gateway_unit
from infra.settings import Settings
from infra.stack import build_stack
from testbed.settings import settings_of
from tests.support.host import fake_gateway
from tests.support.systemd import parse_unit

NON_DEFAULT = {
    "hostDataDir": "/srv/friday-gw/data",
    "hostUser": "fridaygw",
    "gatewayUid": 2345,
    "gatewayGid": 2346,
    "backupHostDir": "/srv/friday-gw/backups",
}


def option(command: str, name: str) -> str:
    match = re.search(rf"{re.escape(name)} (\S+)", command)
    assert match, f"{name} not in {command}"
    return match.group(1)


def backup_unit(settings: Settings) -> str:
    return host_backup.systemd_service(settings, host_backup.task(build_stack(settings)))


def both_units(settings: Settings) -> tuple[dict[str, dict[str, list[str]]], dict[str, dict[str, list[str]]]]:
    return parse_unit(gateway_unit(settings)), parse_unit(backup_unit(settings))


@pytest.mark.parametrize("plain", [{}, NON_DEFAULT], ids=["defaults", "non-default"])
def test_backup_unit_uses_the_gateway_units_user_and_data_folder(plain: dict[str, object]) -> None:
    s = settings_of(plain)
    gw, bk = (unit["Service"] for unit in both_units(s))
    assert bk["User"] == gw["User"] == [s.host_user]
    assert bk["Group"] == gw["Group"] == [s.host_user]
    data_dir = gw["WorkingDirectory"][0]
    assert data_dir == s.host_data_dir
    assert option(bk["ExecStart"][0], "--data-dir") == data_dir
    assert option(bk["ExecStart"][0], "--backup-dir") == s.backup_host_dir
    assert data_dir in gw["ReadWritePaths"][0].split() and data_dir in bk["ReadWritePaths"][0].split()
    files = artefacts.produce(s, build_stack(s))
    config = yaml.safe_load(files["host/gateway/gateway.yaml"])
    assert config["core"]["dataDir"] == data_dir
    tmpfiles = files["host/tmpfiles/friday.conf"]
    assert f"d {data_dir} 0700 {s.host_user} {s.host_user} -" in tmpfiles
    assert f"d {s.backup_host_dir} 0700 {s.host_user} {s.host_user} -" in tmpfiles
    # sysusers creates that user with the ids the container deployments use.
    assert f"u {s.host_user} {s.gateway_uid}:{s.gateway_gid} " in files["host/sysusers/friday.conf"]
    assert f"su {s.host_user} {s.host_user}" in files["host/logrotate/friday"]


def test_the_non_default_settings_change_every_unit() -> None:
    # Negative control: the comparison above is not between two copies of the defaults.
    default, other = settings_of(), settings_of(NON_DEFAULT)
    for unit in (gateway_unit, backup_unit):
        text = unit(other)
        assert default.host_data_dir not in text and f"User={default.host_user}\n" not in text
        assert other.host_data_dir in text and f"User={other.host_user}\n" in text
    assert layout.data_dir(other) == NON_DEFAULT["hostDataDir"]


def test_both_non_default_units_verify(tmp_path: Path) -> None:
    s = settings_of({**NON_DEFAULT, **fake_gateway(tmp_path)})
    paths = []
    for name, text in (
        (layout.UNIT, gateway_unit(s)),
        (f"{host_backup.UNIT}.service", backup_unit(s)),
    ):
        path = tmp_path / name
        path.write_text(text)
        paths.append(str(path))
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *paths],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
