"""The other bare-metal files: gateway config, secrets file, tmpfiles.d, journald, and which
files each log target renders."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from infra.host import artefacts, layout
from infra.settings.secrets import SECRETS_BY_KEY
from infra.stack import gateway
from infra.stack.build import build_stack
from testbed.settings import settings_of


def test_bare_metal_gateway_config_reuses_the_container_one_with_host_paths() -> None:
    s = settings_of({"hostDataDir": "/srv/friday-data"})
    config = yaml.safe_load(artefacts.gateway_yaml(s))
    assert config["core"]["dataDir"] == "/srv/friday-data"
    assert config["gateway"] == {"host": "127.0.0.1", "port": s.gateway_port}
    # Exactly one log output: the 0.1.0 gateway logs nothing with two or more.
    assert config["logging"]["output"] == [{"type": "stdout", "format": "json"}]
    container = gateway.gateway_config(s)
    assert {k: v for k, v in config.items() if k not in ("core", "gateway")} == {
        k: v for k, v in container.items() if k not in ("core", "gateway")
    }


def test_environment_file_holds_only_placeholders_for_the_required_secrets() -> None:
    s = settings_of({"aiProvider": "google"})
    text = artefacts.env_example(s)
    pairs = dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    expected = {var: SECRETS_BY_KEY[key].placeholder() for key, var in gateway.SECRET_ENV.items()}
    expected[gateway.PROVIDER_ENV["google"]] = "<secret:googleApiKey>"
    assert pairs == expected
    assert "mode 0600" in text


def _fake_root(tmp_path: Path) -> Path:
    """A root folder with a passwd naming the service user (as the current uid when not root)."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    uid, gid = (1500, 1500) if os.geteuid() == 0 else (os.getuid(), os.getgid())
    (root / "etc/passwd").write_text(f"friday:x:{uid}:{gid}::/nonexistent:/usr/sbin/nologin\n")
    (root / "etc/group").write_text(f"friday:x:{gid}:\n")
    return root


def test_tmpfiles_creates_the_folders_and_the_log_file_owned_by_the_user(tmp_path: Path) -> None:
    root = _fake_root(tmp_path)
    conf = tmp_path / "friday.conf"
    conf.write_text(artefacts.tmpfiles(settings_of()))
    done = subprocess.run(
        ["systemd-tmpfiles", "--create", f"--root={root}", str(conf)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    uid = (root / "etc/passwd").read_text().split(":")[2]
    data = gateway.DATA_DIR.lstrip("/")
    for rel, mode in ((data, 0o700), ("var/log/friday", 0o750), ("var/log/friday/gateway.log", 0o640)):
        st = (root / rel).stat()
        assert (oct(st.st_mode & 0o777), str(st.st_uid)) == (oct(mode), uid), rel


def test_journal_target_renders_journald_instead_of_logrotate() -> None:
    s = settings_of({"hostLogTarget": "journal", "hostJournalMaxUse": "2G", "hostLogRotateKeep": 10})
    files = artefacts.produce(s, build_stack(s))
    assert "host/logrotate/friday" not in files
    journald = files["host/journald/friday.conf"]
    assert "[Journal]\n" in journald and "SystemMaxUse=2G\n" in journald and "MaxRetentionSec=10day\n" in journald
    assert "var/log/friday" not in files["host/tmpfiles/friday.conf"]


@pytest.mark.parametrize("target", ["file", "journal"])
def test_every_host_file_has_an_install_path(target: str) -> None:
    s = settings_of({"hostLogTarget": target})
    files = artefacts.produce(s, build_stack(s))
    assert {rel.removeprefix("host/") for rel in files} <= set(layout.INSTALL)
    assert all(rel.startswith("host/") for rel in files)


def test_render_command_writes_the_host_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from infra.cli import main

    out = tmp_path / "out"
    assert main(["render", "--stack", "dev", "--out", str(out)]) == 0
    listed = capsys.readouterr().out
    for rel in ("systemd/friday-gateway.service", "logrotate/friday", "alloy/config.alloy", "env/gateway.env.example"):
        assert (out / "host" / rel).is_file()
        assert f"  host/{rel}\n" in listed
    env = (out / "host/env/gateway.env.example").read_text()
    assert "SECUREYEOMAN_SIGNING_KEY=<secret:signingKey>\n" in env


def _sysusers(root: Path, conf_text: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    conf = tmp_path / "friday-sysusers.conf"
    conf.write_text(conf_text)
    return subprocess.run(
        ["systemd-sysusers", f"--root={root}", str(conf)], capture_output=True, text=True, timeout=30, check=False
    )


def test_sysusers_creates_the_user_with_the_gateway_ids(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    s = settings_of({"gatewayUid": 1234, "gatewayGid": 2345})
    done = _sysusers(root, artefacts.sysusers(s), tmp_path)
    assert done.returncode == 0 and "already used" not in done.stderr, done.stderr
    assert "friday:x:1234:2345:" in (root / "etc/passwd").read_text()
    assert "friday:x:2345:" in (root / "etc/group").read_text()


def test_sysusers_says_when_an_id_is_taken(tmp_path: Path) -> None:
    # What the operator must look for: the ids would then differ from the container's and the backup unit's.
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/passwd").write_text("someone:x:1000:1000::/home/someone:/bin/sh\n")
    (root / "etc/group").write_text("someone:x:1000:\n")
    done = _sysusers(root, artefacts.sysusers(settings_of()), tmp_path)
    assert "already used" in done.stderr
