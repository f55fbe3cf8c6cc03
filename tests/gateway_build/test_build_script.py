"""scripts/build-gateway.sh: what it says when it cannot build, and that a warm run builds nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from testbed.paths import REPO_ROOT
from tests.support.real_gateway import require_build

SCRIPT = REPO_ROOT / "scripts" / "build-gateway.sh"
TOOLS = ("bash", "dirname", "basename", "find", "sort", "sha256sum", "cut", "mkdir", "cat", "sed", "date", "tar")


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=120, env=env, check=False
    )


def path_without(tmp_path: Path, missing: str) -> str:
    """A PATH holding the script's basic tools and the toolchain, except `missing`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in (*TOOLS, "node", "npm", "make", "c++", "python3", "flock", "xargs", "readlink", "du"):
        found = shutil.which(tool)
        if found and tool != missing:
            (bin_dir / tool).symlink_to(found)
    return str(bin_dir)


def test_a_missing_tool_is_one_line_naming_it(tmp_path: Path) -> None:
    archive = tmp_path / "src.tar.gz"
    archive.write_bytes(b"")
    env = {"PATH": path_without(tmp_path, "c++"), "HOME": str(tmp_path)}
    done = run(env, str(archive))
    assert done.returncode == 3
    assert done.stderr.strip().splitlines() == [
        "error: gateway build needs c++ on PATH (Node 20+ with npm, make, a C++ compiler, python3)"
    ]


def test_no_source_is_one_line_saying_where_to_get_one(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    done = run(env, str(tmp_path / "nowhere"))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"error: gateway source {tmp_path / 'nowhere'} does not exist"]
    empty = tmp_path / "empty"
    empty.mkdir()
    done = run(env, str(empty))
    assert done.returncode == 2
    assert "holds 0 .tar.gz archives, expected exactly one" in done.stderr


def test_a_warm_run_finds_the_cached_build_and_says_so() -> None:
    build = require_build()
    done = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(build)
    assert done.stderr.startswith(f"[gateway build] cached: {build} (")
    info = dict(line.split("=", 1) for line in (build / "BUILD_INFO").read_text().splitlines())
    assert info["version"] == "secureyeoman v0.1.0" and info["pins"] == "@fastify/websocket@11.2.0"
