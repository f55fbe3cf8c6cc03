"""`make up` (scripts/up.sh) before it deploys (issue 22, item 6): the stack passphrase and the Pulumi CLI.

An empty PULUMI_CONFIG_PASSPHRASE (set but empty) is taken by Pulumi as an intended empty passphrase,
so it is refused before anything runs. Without a Pulumi CLI and without a way to download one, the
message names what works from there, and the test RUNS each command it suggests (with the placeholder
folder filled in) and checks the deploy then gets through.

The Pulumi CLI here is a stand-in (a script that prints the pinned version and logs its arguments): the
test is about up.sh's decisions and messages, not Pulumi's; the installer still verifies its archive's
checksum and version as it would a real release.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from testbed.paths import REPO_ROOT

SDK = re.search(r"^pulumi==([0-9.]+)$", (REPO_ROOT / "requirements.in").read_text(), re.M)
assert SDK, "requirements.in pins the Pulumi SDK"
VERSION = SDK.group(1)
PLATFORM = {"x86_64": "linux-x64", "aarch64": "linux-arm64", "arm64": "linux-arm64"}[os.uname().machine]
STACK = "dev"  # a committed docker stack: `check` passes without Docker or secrets


def fake_cli(log: Path, version: str = VERSION) -> str:
    return f'#!/bin/sh\necho "$*" >> {log}\n[ "$1" = version ] && echo v{version}\nexit 0\n'


@dataclass
class Sandbox:
    root: Path
    log: Path  # every pulumi invocation, one line each
    env: dict[str, str]

    def run(self, command: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", command],
            cwd=REPO_ROOT,
            env={**self.env, **extra},
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
            check=False,
        )

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def cli_folder(self, version: str = VERSION) -> Path:
        folder = self.root / f"cli-{version}"
        folder.mkdir()
        (folder / "pulumi").write_text(fake_cli(self.log, version))
        (folder / "pulumi").chmod(0o755)
        return folder


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    """No Pulumi CLI anywhere (a fresh HOME, PATH without one), the state in tmp_path."""
    home = tmp_path / "home"
    home.mkdir()
    path = ":".join(d for d in os.environ["PATH"].split(":") if d and not (Path(d) / "pulumi").exists())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "MAKE", "MFLAGS"))}
    env.update(HOME=str(home), PATH=path, PULUMI_BACKEND_URL=f"file://{tmp_path / 'state'}")
    return Sandbox(tmp_path, tmp_path / "pulumi.log", env)


# (name, environment, refusal expected in stderr or None when the deploy goes through)
PASSPHRASES: list[tuple[str, dict[str, str], str | None]] = [
    ("set but empty", {"PULUMI_CONFIG_PASSPHRASE": ""}, "PULUMI_CONFIG_PASSPHRASE is set but empty"),
    ("blank", {"PULUMI_CONFIG_PASSPHRASE": "  \t"}, "PULUMI_CONFIG_PASSPHRASE is set but empty (or blank)"),
    ("empty beside a file", {"PULUMI_CONFIG_PASSPHRASE": "", "PULUMI_CONFIG_PASSPHRASE_FILE": "{good}"}, "set but"),
    ("file empty", {"PULUMI_CONFIG_PASSPHRASE_FILE": "{empty}"}, "PULUMI_CONFIG_PASSPHRASE_FILE='{empty}' is empty"),
    ("file blank", {"PULUMI_CONFIG_PASSPHRASE_FILE": "{blank}"}, "is empty (or blank)"),
    ("file missing", {"PULUMI_CONFIG_PASSPHRASE_FILE": "{missing}"}, "='{missing}' is not a readable file"),
    ("file set but empty", {"PULUMI_CONFIG_PASSPHRASE_FILE": ""}, "PULUMI_CONFIG_PASSPHRASE_FILE='' is not a"),
    ("file a folder", {"PULUMI_CONFIG_PASSPHRASE_FILE": "{folder}"}, "is not a readable file"),
    ("a passphrase", {"PULUMI_CONFIG_PASSPHRASE": "correct horse"}, None),
    ("a passphrase file", {"PULUMI_CONFIG_PASSPHRASE_FILE": "{good}"}, None),
    ("neither (Pulumi asks)", {}, None),
]


@pytest.mark.parametrize(("name", "env", "refusal"), PASSPHRASES, ids=[p[0] for p in PASSPHRASES])
def test_an_empty_passphrase_is_refused_before_anything_runs(
    name: str, env: dict[str, str], refusal: str | None, sandbox: Sandbox
) -> None:
    files = {"empty": "", "blank": " \n\n", "good": "correct horse\n"}
    where = {key: sandbox.root / f"pass-{key}" for key in [*files, "missing", "folder"]}
    for key, content in files.items():
        where[key].write_text(content)
    where["folder"].mkdir()
    filled = {k: v.format(**where) for k, v in env.items()}
    cli = sandbox.cli_folder()
    done = sandbox.run(f"scripts/up.sh {STACK}", **filled, PATH=f"{cli}:{sandbox.env['PATH']}")
    if refusal is None:
        assert done.returncode == 0, done.stderr[-3000:]
        assert f"up --stack {STACK}" in sandbox.calls()
        return
    assert done.returncode == 2, done.stdout + done.stderr
    assert refusal.format(**where) in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert sandbox.calls() == [], "refused, yet pulumi ran"


def release_folder(sandbox: Sandbox) -> Path:
    """What an operator copies from get.pulumi.com for offline use: the archive and the checksum list."""
    folder = sandbox.root / "offline"
    folder.mkdir()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        body = fake_cli(sandbox.log).encode()
        info = tarfile.TarInfo("pulumi/pulumi")
        info.size, info.mode = len(body), 0o755
        tar.addfile(info, io.BytesIO(body))
    name = f"pulumi-v{VERSION}-{PLATFORM}.tar.gz"
    (folder / name).write_bytes(buffer.getvalue())
    digest = hashlib.sha256(buffer.getvalue()).hexdigest()
    (folder / f"pulumi-{VERSION}-checksums.txt").write_text(f"{digest}  {name}\n")
    return folder


# What stands on PATH when the install fails: nothing, or a CLI of another version.
SITUATIONS = [("no CLI", None), ("another version on PATH", "3.1.0")]


@pytest.mark.parametrize(("name", "other"), SITUATIONS, ids=[s[0] for s in SITUATIONS])
def test_without_a_cli_every_suggested_command_works(name: str, other: str | None, sandbox: Sandbox) -> None:
    path = sandbox.env["PATH"] if other is None else f"{sandbox.cli_folder(other)}:{sandbox.env['PATH']}"
    # No network: a download base nothing answers on.
    failed = sandbox.run(
        f"make up STACK={STACK}", PATH=path, PULUMI_DOWNLOAD_BASE="http://127.0.0.1:9", PULUMI_CONFIG_PASSPHRASE="p"
    )
    assert failed.returncode != 0
    assert f"could not install the Pulumi CLI v{VERSION}" in failed.stderr
    if other is not None:
        assert f"the pulumi on PATH is v{other}, not v{VERSION}" in failed.stderr
    assert f"up --stack {STACK}" not in sandbox.calls()
    suggested = [line.strip() for line in failed.stderr.splitlines() if line.startswith("      ")]
    assert len(suggested) == 2, failed.stderr
    assert f"pulumi-v{VERSION}-{PLATFORM}.tar.gz and pulumi-{VERSION}-checksums.txt" in failed.stderr
    fill = {
        "/path/to/that/folder": str(release_folder(sandbox)),
        "/path/to/pulumi/bin": str(sandbox.cli_folder()),
    }
    for command in suggested:
        placeholders = [p for p in fill if p in command]
        assert len(placeholders) == 1, f"{command!r}: a placeholder this test does not know"
        home = sandbox.root / f"home-{placeholders[0].split('/')[3]}"  # a fresh HOME: nothing installed yet
        home.mkdir()
        before = len(sandbox.calls())
        done = sandbox.run(command.replace(placeholders[0], fill[placeholders[0]]), PATH=path, HOME=str(home))
        assert done.returncode == 0, f"{command}:\n{done.stderr[-3000:]}"
        assert f"up --stack {STACK}" in sandbox.calls()[before:], command
    shutil.rmtree(sandbox.root / "offline")


def test_the_offline_base_is_a_folder_without_curl(sandbox: Sandbox) -> None:
    """The offline folder is copied, not fetched: it works where curl is not installed."""
    folder = release_folder(sandbox)
    tools = sandbox.root / "tools"
    tools.mkdir()
    for tool in (
        "bash",
        "dirname",
        "sed",
        "head",
        "uname",
        "mktemp",
        "rm",
        "cp",
        "mv",
        "awk",
        "sha256sum",
        "tar",
        "gzip",
        "mkdir",
    ):
        found = shutil.which(tool)
        assert found, tool
        (tools / tool).symlink_to(found)
    done = sandbox.run(
        f"scripts/install-pulumi.sh {sandbox.root / 'prefix'}", PATH=str(tools), PULUMI_DOWNLOAD_BASE=str(folder)
    )
    assert done.returncode == 0, done.stderr
    assert f"Pulumi CLI v{VERSION} (sha256 verified)" in done.stdout
    missing = sandbox.run(
        f"scripts/install-pulumi.sh {sandbox.root / 'p2'}", PULUMI_DOWNLOAD_BASE=str(sandbox.root / "tools")
    )
    assert missing.returncode != 0
    assert f"has no pulumi-v{VERSION}-{PLATFORM}.tar.gz" in missing.stderr


def test_the_new_stack_template_does_not_call_kubernetes_render_only() -> None:
    template = (REPO_ROOT / "docs" / "stack-template.yaml").read_text()
    assert "render only" not in template.lower()
    assert "kubernetes (a cluster from your kubeconfig" in template
