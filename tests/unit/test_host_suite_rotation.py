"""The host suite's log-rotation checks can fail: an old log never rotated fails; a real logrotate run passes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from infra.host import layout
from infra.settings import load_stack
from testbed.paths import REPO_ROOT
from tests.infra.options import LOGROTATE_CONF
from tests.support.local_host import logrotate_conf, under


def line(age_s: float) -> str:
    when = datetime.fromtimestamp(time.time() - age_s, UTC).isoformat(timespec="milliseconds")
    doc = {"level": "info", "time": when.replace("+00:00", "Z"), "msg": "Request completed"}
    return json.dumps(doc) + "\n"


def suite(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/infra/test_logs.py",
            "--hosts=local://",
            "--friday-mode=baremetal",
            f"--friday-root={root}",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_rotation_checks_fail_on_an_old_unrotated_log_and_pass_after_logrotate(tmp_path: Path) -> None:
    settings = load_stack("dev")
    log = under(tmp_path, layout.log_file(settings))
    log.parent.mkdir(parents=True)
    log.parent.chmod(0o750)
    conf = under(tmp_path, LOGROTATE_CONF)
    conf.parent.mkdir(parents=True)
    # The RENDERED logrotate file, localized for tmp_path (its own rotation policy, copytruncate).
    conf.write_text(logrotate_conf(tmp_path, settings))
    conf.chmod(0o644)
    log.write_text(line(3 * 86400) + line(60))

    done = suite(tmp_path)
    assert done.returncode == 1, done.stdout
    assert "1 failed, 2 passed" in done.stdout, done.stdout
    assert "was never rotated (period 24h): logrotate is not running" in done.stdout

    # A real rotation with the same config (forced: the log is not a day old for logrotate's state).
    rotate = subprocess.run(
        ["logrotate", "-f", "-s", str(tmp_path / "state"), str(conf)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert rotate.returncode == 0, rotate.stderr
    assert (log.parent / "gateway.log.1").stat().st_size > 0
    assert log.stat().st_size == 0  # copytruncate: same file, emptied
    done = suite(tmp_path)
    assert done.returncode == 0, done.stdout
    assert "3 passed" in done.stdout, done.stdout
