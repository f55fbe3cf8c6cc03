"""scripts/kube-context.sh: `make up`/`make preview` of a kubernetes stack stop early on an unknown context."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from testbed.paths import REPO_ROOT


def run(stack: str, tmp_path: Path, contexts: list[str]) -> subprocess.CompletedProcess[str]:
    # A stand-in kubectl that knows only `contexts` (the real one may not be installed here).
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "kubectl"
    known = " ".join(contexts)
    fake.write_text(f'#!/bin/sh\nfor c in {known}; do [ "$3" = "$c" ] && exit 0; done\nexit 1\n', encoding="utf-8")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    return subprocess.run(
        [str(REPO_ROOT / "scripts" / "kube-context.sh"), stack],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def test_known_context_passes_and_is_named(tmp_path: Path) -> None:
    done = run("prod", tmp_path, ["other", "friday-prod"])
    assert done.returncode == 0, done.stderr
    assert "context 'friday-prod'" in done.stdout


def test_unknown_context_stops_with_the_setting_named(tmp_path: Path) -> None:
    done = run("prod", tmp_path, ["other"])
    assert done.returncode == 1
    assert "friday:kubernetesContext = 'friday-prod' is not a context" in done.stderr


def test_docker_stacks_are_not_concerned(tmp_path: Path) -> None:
    done = run("dev", tmp_path, [])
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
