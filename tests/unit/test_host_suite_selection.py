"""The host suite (tests/infra) selects checks by --friday-mode: the other mode is deselected, never skipped."""

from __future__ import annotations

import subprocess
import sys

import pytest

from testbed.paths import REPO_ROOT


def collect(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "tests/infra", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(("mode", "other"), [("baremetal", "docker"), ("docker", "baremetal")])
def test_mode_selects_its_checks(mode: str, other: str) -> None:
    done = collect("--hosts=local://", f"--friday-mode={mode}")
    assert done.returncode == 0, done.stdout + done.stderr
    selected = [line for line in done.stdout.splitlines() if "::" in line]
    # Checks common to both modes (gateway, Prometheus) run in each.
    assert any("test_health_answers_ok" in line for line in selected)
    assert any("test_gateway_target_is_up" in line for line in selected)
    assert "host checks deselected (not part of --friday-mode" in done.stdout
    names = " ".join(selected)
    if mode == "docker":
        assert "test_data_dir_is_a_named_volume" in names and "test_every_container_rotates_its_log" in names
        assert "test_logrotate_config_is_present_safe_and_valid" not in names
    else:
        assert "test_logrotate_config_is_present_safe_and_valid" in names
        assert "test_data_dir_is_a_named_volume" not in names


def test_without_a_mode_nothing_runs_silently() -> None:
    done = collect("--hosts=local://")
    assert "host checks deselected (no --friday-mode given)" in done.stdout
    assert not [line for line in done.stdout.splitlines() if "::" in line]


def test_only_host_suite_files_are_deselected() -> None:
    """A test elsewhere whose parameter id names a host-suite file is not taken for a host check."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/docs/test_scrape_credential_docs.py",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[tests/infra/probe.py]" in done.stdout
    assert "deselected" not in done.stdout
