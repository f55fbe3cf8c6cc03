"""The host-file localization of the local host suite (testbed/localize.py) changes only what
it documents: host folders move under the root, the service user becomes the current one."""

from __future__ import annotations

import subprocess
from pathlib import Path

from infra.host import artefacts, layout
from infra.stack import build_stack
from testbed import localize
from testbed.settings import settings_of


def test_logrotate_is_the_rendered_one_under_root_as_the_current_user(tmp_path: Path) -> None:
    s = settings_of({"hostLogDir": "/srv/logs/friday", "hostLogRotateKeep": 9})
    rendered = artefacts.produce(s, build_stack(s))["host/logrotate/friday"]
    text = localize.host_logrotate(rendered, tmp_path, s)
    me, my_group = localize.current_user()
    assert f"{tmp_path}/srv/logs/friday/gateway.log {{" in text
    assert f"su {me} {my_group}\n" in text and "su friday" not in text
    # Everything else exactly as rendered.
    strip = [line for line in rendered.splitlines() if "gateway.log {" not in line and " su " not in line]
    assert strip == [line for line in text.splitlines() if "gateway.log {" not in line and " su " not in line]
    log_dir = tmp_path / "srv/logs/friday"
    log_dir.mkdir(parents=True)
    (log_dir / "gateway.log").write_text("{}\n")
    conf = tmp_path / "friday"
    conf.write_text(text)
    done = subprocess.run(
        ["logrotate", "-d", "-s", "/dev/null", str(conf)], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0 and "error" not in done.stderr, done.stderr
    assert f"{log_dir}/gateway.log" in done.stdout + done.stderr


def test_only_whole_host_folders_move(tmp_path: Path) -> None:
    s = settings_of()
    text = f"{s.host_data_dir} {s.host_data_dir}2 /x{s.host_log_dir} {s.host_log_dir}/gateway.log\n"
    assert localize.host_paths_under(text, tmp_path, s) == (
        f"{tmp_path}{s.host_data_dir} {s.host_data_dir}2 /x{s.host_log_dir} {tmp_path}{s.host_log_dir}/gateway.log\n"
    )


def test_tmpfiles_keep_paths_and_modes_and_change_owners() -> None:
    s = settings_of()
    rendered = artefacts.tmpfiles(s)
    me, my_group = localize.current_user()
    local = localize.host_tmpfiles(rendered, s)
    entries = [line.split() for line in local.splitlines() if line and not line.startswith("#")]
    assert entries and all(e[3:5] == [me, my_group] for e in entries)
    expected = [line.split() for line in rendered.splitlines() if line and not line.startswith("#")]
    assert [e[:3] + e[5:] for e in entries] == [e[:3] + e[5:] for e in expected]
    assert {e[1] for e in entries} >= {layout.data_dir(s), s.backup_host_dir, layout.log_file(s)}
