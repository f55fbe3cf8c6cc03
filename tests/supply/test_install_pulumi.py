"""scripts/install-pulumi.sh for real against a local download server (127.0.0.1): it installs the
CLI version the SDK pin names, only when the archive matches Pulumi's published SHA-256 list."""

from __future__ import annotations

import hashlib
import http.server
import io
import os
import re
import subprocess
import tarfile
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from testbed.paths import REPO_ROOT

SCRIPT = REPO_ROOT / "scripts" / "install-pulumi.sh"
SDK = re.search(r"^pulumi==([0-9.]+)$", (REPO_ROOT / "requirements.in").read_text(), re.M)
assert SDK, "requirements.in pins the Pulumi SDK"
VERSION = SDK.group(1)


def archive(version_printed: str) -> bytes:
    """A release archive laid out as Pulumi's: pulumi/pulumi (here a script printing its version)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        body = f"#!/bin/sh\necho v{version_printed}\n".encode()
        info = tarfile.TarInfo("pulumi/pulumi")
        info.size, info.mode = len(body), 0o755
        tar.addfile(info, io.BytesIO(body))
    return buffer.getvalue()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    site = tmp_path / "site"
    site.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", site
    finally:
        httpd.shutdown()
        thread.join(timeout=10)


# The archive name for this machine, as the script picks it.
PLATFORM = {"x86_64": "linux-x64", "aarch64": "linux-arm64", "arm64": "linux-arm64"}[os.uname().machine]


def publish(site: Path, data: bytes, listed_hash: str | None = None) -> None:
    name = f"pulumi-v{VERSION}-{PLATFORM}.tar.gz"
    (site / name).write_bytes(data)
    digest = listed_hash or hashlib.sha256(data).hexdigest()
    (site / f"pulumi-{VERSION}-checksums.txt").write_text(
        f"{'0' * 64}  pulumi-v{VERSION}-windows-x64.zip\n{digest}  {name}\n"
    )


def install(base: str, prefix: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PULUMI_DOWNLOAD_BASE": base}
    return subprocess.run(
        ["bash", str(SCRIPT), str(prefix)], capture_output=True, text=True, timeout=120, env=env, check=False
    )


def test_installs_the_sdk_version_after_checking_its_hash(server: tuple[str, Path], tmp_path: Path) -> None:
    base, site = server
    publish(site, archive(VERSION))
    done = install(base, tmp_path / "pulumi")
    assert done.returncode == 0, done.stderr
    assert f"Pulumi CLI v{VERSION} (sha256 verified)" in done.stdout
    out = subprocess.run(
        [tmp_path / "pulumi/bin/pulumi", "version"], check=True, capture_output=True, text=True, timeout=10
    )
    assert out.stdout.strip() == f"v{VERSION}"
    again = install(base, tmp_path / "pulumi")
    assert "already in" in again.stdout


def test_refuses_an_archive_whose_hash_is_not_the_published_one(server: tuple[str, Path], tmp_path: Path) -> None:
    base, site = server
    publish(site, archive(VERSION), listed_hash="f" * 64)
    done = install(base, tmp_path / "pulumi")
    assert done.returncode != 0
    assert "checksum mismatch" in done.stderr and "nothing installed" in done.stderr
    assert not (tmp_path / "pulumi").exists()


def test_refuses_a_cli_of_another_version(server: tuple[str, Path], tmp_path: Path) -> None:
    base, site = server
    publish(site, archive("3.1.0"))
    done = install(base, tmp_path / "pulumi")
    assert done.returncode != 0
    assert f"the archive holds v3.1.0, wanted v{VERSION}; nothing installed" in done.stderr
    assert not (tmp_path / "pulumi").exists()


def test_the_lock_pins_the_same_sdk_the_cli_is_installed_for() -> None:
    lock = (REPO_ROOT / "requirements.txt").read_text()
    assert re.search(rf"^pulumi=={re.escape(VERSION)} \\$", lock, re.M)
