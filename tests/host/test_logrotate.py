"""logrotate: the rendered config passes `logrotate -d`, and forced rotations under load
lose no more than the documented copytruncate window (tests.support.rotation)."""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

import pytest

from infra.host.logrotate import logrotate_config
from testbed.settings import settings_of
from tests.support import rotation


def debug_run(conf: Path, state: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["logrotate", "-d", "-f", "-s", str(state), str(conf)], capture_output=True, text=True, timeout=30, check=False
    )


def test_config_rotates_by_copy_and_truncate_only() -> None:
    text = logrotate_config(settings_of({"hostLogRotateKeep": 7, "hostLogRotateMaxSize": "50M"}))
    directives = [line.strip() for line in text.splitlines() if line.startswith("    ")]
    assert "copytruncate" in directives
    assert "su friday friday" in directives
    assert "rotate 7" in directives and "maxsize 50M" in directives
    # The gateway has no pid file, dies on SIGHUP and opens a debugger on SIGUSR1.
    for forbidden in ("create", "postrotate", "prerotate", "firstaction", "lastaction", "kill", "HUP", "USR1"):
        assert not any(forbidden in d for d in directives), forbidden
    assert text.splitlines()[2] == "/var/log/friday/gateway.log {"


def test_logrotate_debug_accepts_the_rendered_config(tmp_path: Path) -> None:
    log_dir = tmp_path / "log"
    log_dir.mkdir(mode=0o750)
    (log_dir / "gateway.log").write_text('{"level":"info","msg":"x"}\n')
    conf = rotation.write_config(rotation.host_settings(keep=9), tmp_path / "friday", log_dir)
    done = debug_run(conf, tmp_path / "state")
    assert done.returncode == 0, done.stderr
    out = done.stdout + done.stderr
    assert "error" not in out.lower(), out
    assert f"rotating pattern: {log_dir}/gateway.log" in out
    assert "(9 rotations)" in out
    assert "log files >= 104857600 are rotated earlier" in out
    assert f"copying {log_dir}/gateway.log to {log_dir}/gateway.log.1" in out
    assert f"truncating {log_dir}/gateway.log" in out


def test_logrotate_debug_would_reject_a_bad_config(tmp_path: Path) -> None:
    conf = rotation.write_config(rotation.host_settings(), tmp_path / "friday", tmp_path)
    conf.write_text(conf.read_text().replace("copytruncate", "copytruncate\n    rotatehourly"))
    done = debug_run(conf, tmp_path / "state")
    assert "unknown option 'rotatehourly'" in done.stderr


@pytest.mark.live
@pytest.mark.parametrize("rate", [200, 2000])
def test_forced_rotations_under_load_stay_within_the_documented_loss(rate: int, tmp_path: Path) -> None:
    seconds = 3.0
    result = rotation.measure(tmp_path, rate=rate, count=int(rate * seconds), every_s=0.2, max_seconds=20)
    assert result.written == int(rate * seconds)
    # Rotations really happened: one copy per rotating run, the older ones compressed. (A run that
    # finds the file empty rotates nothing: a loaded machine can starve the writer between two runs.)
    assert result.rotations >= 8 and result.rotations <= result.forced
    assert result.rotated_files == result.rotations
    assert result.compressed_files == result.rotations - 1
    # copytruncate can drop what is written between its copy and its truncation, nothing else:
    # no line twice, losses only in runs at rotations, and within the documented bound.
    assert result.duplicated == 0
    assert result.loss_runs <= result.rotations
    assert result.corrupted <= result.rotations
    assert result.lost <= rotation.max_lost(rate, result.rotations), result


@pytest.mark.live
@pytest.mark.timeout(120)  # it may have to build the real gateway first (a warm build is instant)
def test_the_real_gateway_survives_rotations_and_its_lines_are_counted(tmp_path: Path) -> None:
    """The REAL gateway 0.1.0 (pino JSON from a worker thread, its banner and stop lines as plain text;
    SIGHUP would kill it), its stdout appended to the file with the rendered config at debug, as the
    unit runs it: rotations must neither signal it nor leave a hole at the file's start, and lose no
    more request lines than the documented copytruncate window."""
    measured = rotation.measure_gateway(tmp_path, requests_count=2000, every_s=0.2, max_seconds=20)
    result = measured.result
    assert measured.alive_after_rotations, "a rotation stopped the gateway"
    assert measured.exit_code == 0, "the gateway did not stop cleanly on SIGTERM"
    # With O_APPEND the next line after a truncation lands at offset 0, not after a run of NULs.
    assert measured.live_file_starts_clean
    assert result.written == 2000
    # notifempty: a forced rotation that finds the file empty (pino's worker thread writes in bursts)
    # rotates nothing; only the rotations that copied and truncated can lose lines.
    truncations = result.rotations
    assert truncations >= 5 and truncations <= result.forced, result
    assert result.rotated_files == truncations, result
    assert result.duplicated == 0 and result.corrupted <= truncations
    assert result.loss_runs <= truncations
    assert result.lost <= rotation.max_lost(result.rate, truncations), result
    # Its plain text survived the rotations as text, in order: the start banner, then the stop lines.
    text = measured.text_lines
    assert any("SecureYeoman v" in line for line in text), text
    assert text[-2:] == ("Received SIGTERM, shutting down...", "Shutdown complete."), text


@pytest.mark.live
def test_without_append_mode_truncation_leaves_a_hole_of_nul_bytes(tmp_path: Path) -> None:
    """Why the unit says `append:` and not `file:`: a writer without O_APPEND keeps its offset
    after the truncation, so the file restarts with NUL bytes and lines get corrupted."""
    result = rotation.measure(tmp_path, rate=500, count=1000, every_s=0.25, max_seconds=10, append=False)
    assert result.rotations >= 3
    contents = [
        gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes() for p in (tmp_path / "log").iterdir()
    ]
    # Every copy after the first truncation starts with the hole the writer's old offset left.
    assert sum(1 for c in contents if c[:1] == b"\0") >= result.rotations - 1
    assert result.corrupted >= 1
