"""Hash-locked requirements, the Renovate config that keeps them (and actions and image tags) current,
`make lint`, and a new stack from the documented template."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from infra.cli import main
from infra.settings import Settings
from infra.targets.kubernetes_map import install
from testbed.paths import REPO_ROOT
from testbed.settings import settings_of
from tests.support.kubernetes import KUBE_BASE

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)(?: ;.*?)?(?: \\)?$", re.M)


def pins(path: Path) -> dict[str, str]:
    return {name.lower().replace("_", "-"): version for name, version in PIN.findall(path.read_text())}


@pytest.mark.parametrize(
    ("source", "lock"),
    [
        ("requirements.in", "requirements.txt"),
        ("requirements-dev.in", "requirements-dev.txt"),
        ("requirements-checkov.in", "requirements-checkov.txt"),
    ],
)
def test_every_chosen_version_is_in_its_lock(source: str, lock: str) -> None:
    chosen, locked = pins(REPO_ROOT / source), pins(REPO_ROOT / lock)
    assert chosen, source
    assert {n: v for n, v in chosen.items() if locked.get(n) != v} == {}, f"run `make lock`: {lock} is stale"


@pytest.mark.parametrize("lock", ["requirements.txt", "requirements-dev.txt", "requirements-checkov.txt"])
def test_every_locked_package_carries_hashes(lock: str) -> None:
    text = (REPO_ROOT / lock).read_text()
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    assert len(blocks) > 20
    assert [b.split()[0] for b in blocks if "--hash=sha256:" not in b] == []


def test_both_locks_agree_on_every_shared_package() -> None:
    runtime, dev = pins(REPO_ROOT / "requirements.txt"), pins(REPO_ROOT / "requirements-dev.txt")
    assert set(runtime) <= set(dev)
    assert {n: (v, dev[n]) for n, v in runtime.items() if dev[n] != v} == {}


def test_installs_require_hashes() -> None:
    bootstrap = (REPO_ROOT / "scripts" / "bootstrap.sh").read_text()
    installs = [line for line in bootstrap.splitlines() if "pip install" in line]
    assert installs and all("--require-hashes" in line for line in installs)


def image_regex() -> re.Pattern[str]:
    config = json.loads((REPO_ROOT / "renovate.json").read_text())
    [manager] = [m for m in config["customManagers"] if m["datasourceTemplate"] == "docker"]
    [pattern] = manager["matchStrings"]
    # Renovate's (?<name>) groups in Python's spelling.
    return re.compile(pattern.replace("(?<", "(?P<"))


def test_renovate_finds_every_image_tag_of_the_settings() -> None:
    source = (REPO_ROOT / "infra" / "settings" / "groups.py").read_text()
    found = {m["depName"]: m["currentValue"] for m in image_regex().finditer(source)}
    fields = Settings.model_fields
    expected = {
        fields[n].default: fields[n.removesuffix("_image") + "_tag"].default for n in fields if n.endswith("_image")
    }
    assert found == expected


def test_renovate_covers_pip_locks_and_actions() -> None:
    config = json.loads((REPO_ROOT / "renovate.json").read_text())
    assert set(config["enabledManagers"]) == {"pip-compile", "github-actions", "custom.regex"}
    [pattern] = config["pip-compile"]["managerFilePatterns"]
    files = re.compile(pattern.strip("/"))
    locks = ("requirements.txt", "requirements-dev.txt", "requirements-checkov.txt")
    assert all(files.search(lock) for lock in locks)
    # Renovate re-runs the command in each lock's header: it must be the one `make lock` runs.
    lock_script = (REPO_ROOT / "scripts" / "lock.sh").read_text()
    for lock in locks:
        header = (REPO_ROOT / lock).read_text().splitlines()[1]
        assert header.startswith("#    uv pip compile --generate-hashes --universal --python-version=3.11 ")
        assert f"--output-file={lock}" in header and f"--output-file={lock}" in lock_script


def test_make_lint_runs_ruff_and_mypy() -> None:
    dry = subprocess.run(
        ["make", "-n", "lint"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=30, check=True
    ).stdout
    for command in (
        "ruff check .",
        "ruff format --check .",
        "mypy infra tests testbed bench __main__.py",
        "lint-imports",
    ):
        assert command in dry, command


def test_new_stack_from_the_template_is_valid_and_safe(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "stack-template.yaml").write_text((REPO_ROOT / "docs" / "stack-template.yaml").read_text())
    (tmp_path / "Pulumi.yaml").write_text((REPO_ROOT / "Pulumi.yaml").read_text())
    assert main(["--root", str(tmp_path), "new-stack", "--stack", "staging"]) == 0
    assert "created Pulumi.staging.yaml from docs/stack-template.yaml" in capsys.readouterr().out
    assert main(["--root", str(tmp_path), "check", "--stack", "staging"]) == 0
    assert "friday:environment: staging" in (tmp_path / "Pulumi.staging.yaml").read_text()
    assert main(["--root", str(tmp_path), "new-stack", "--stack", "staging"]) == 2
    assert "already exists; nothing written" in capsys.readouterr().err
    assert main(["--root", str(tmp_path), "new-stack", "--stack", "Big_Name"]) == 2
    assert "copy docs/stack-template.yaml to Pulumi.Big_Name.yaml" in capsys.readouterr().err


def test_new_stack_never_writes_through_a_link(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "stack-template.yaml").write_text((REPO_ROOT / "docs" / "stack-template.yaml").read_text())
    outside = tmp_path / "outside" / "victim.yaml"
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "docs").symlink_to(tmp_path / "docs")
    (tmp_path / "repo" / "Pulumi.qa.yaml").symlink_to(outside)  # dangling: the target does not exist yet
    (tmp_path / "outside").mkdir()
    assert main(["--root", str(tmp_path / "repo"), "new-stack", "--stack", "qa"]) == 2
    assert "already exists; nothing written" in capsys.readouterr().err
    assert not outside.exists()


def test_make_up_creates_a_missing_stack_before_anything_else() -> None:
    up = (REPO_ROOT / "scripts" / "up.sh").read_text()
    assert up.index("infra new-stack") < up.index("infra check") < up.index("install-pulumi.sh")


def test_renovate_finds_every_chart_version_of_the_install_mode() -> None:
    config = json.loads((REPO_ROOT / "renovate.json").read_text())
    source = (REPO_ROOT / "infra" / "settings" / "groups.py").read_text()
    found = {}
    for manager in (m for m in config["customManagers"] if m["datasourceTemplate"] == "helm"):
        [pattern] = manager["matchStrings"]
        [match] = re.finditer(pattern.replace("(?<", "(?P<"), source)
        found[manager["depNameTemplate"]] = (manager["registryUrlTemplate"], match["currentValue"])
    settings = settings_of({**KUBE_BASE, "kubernetesMonitoringMode": "install"}, stack="prod")
    assert found == {c.chart: (c.repository, c.version) for c in install.charts(settings)}
