"""`python -m infra render`: both stacks, placeholders for secrets, clear failures."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from infra import generate
from infra.cli import main
from infra.render import MARKER
from infra.settings.model import Settings
from infra.settings.secrets import SECRETS
from testbed.paths import REPO_ROOT


def copy_repo_stack(tmp_path: Path, stack: str) -> Path:
    root = tmp_path / "repo"
    root.mkdir(exist_ok=True)
    shutil.copy(REPO_ROOT / f"Pulumi.{stack}.yaml", root)
    return root


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_render_writes_and_lists_every_artefact(stack: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["render", "--stack", stack, "--out", str(out)]) == 0
    listed = capsys.readouterr().out
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and p.name != MARKER)
    assert files, "render wrote nothing"
    for rel in files:
        assert f"  {rel}\n" in listed
    summary = json.loads((out / "stack.json").read_text())
    assert summary["stack"] == stack
    assert "gateway" in summary["services"]
    config = yaml.safe_load((out / "files/gateway/etc/secureyeoman/config.yaml").read_text())
    assert config["core"]["dataDir"].startswith("/")


def test_no_secret_value_reaches_a_rendered_file(tmp_path: Path) -> None:
    root = copy_repo_stack(tmp_path, "dev")
    stack_file = root / "Pulumi.dev.yaml"
    doc = yaml.safe_load(stack_file.read_text())
    # Ciphertexts stand in for secrets; render must never copy them anywhere.
    markers = {s.key: f"v1:CIPHERTEXT-{s.key}-7f3a9c" for s in SECRETS}
    for key, value in markers.items():
        doc["config"][f"friday:{key}"] = {"secure": value}
    stack_file.write_text(yaml.safe_dump(doc))
    out = tmp_path / "out"
    assert main(["--root", str(root), "render", "--stack", "dev", "--out", str(out)]) == 0
    texts = {p: p.read_text() for p in out.rglob("*") if p.is_file()}
    for path, text in texts.items():
        for value in markers.values():
            assert value not in text, f"{value} leaked into {path}"
    gateway = json.loads((out / "services/gateway.json").read_text())
    assert gateway["env"]["SECUREYEOMAN_SIGNING_KEY"] == "<secret:signingKey>"
    assert gateway["env"]["ANTHROPIC_API_KEY"] == "<secret:anthropicApiKey>"
    summary = json.loads((out / "stack.json").read_text())
    assert summary["secrets"]["signingKey"] == "set (encrypted in the stack file)"


def test_unknown_key_in_a_stack_file_fails_render_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = copy_repo_stack(tmp_path, "prod")
    with (root / "Pulumi.prod.yaml").open("a") as f:
        f.write("  friday:gatewayMemroyMb: 4096\n")
    out = tmp_path / "out"
    assert main(["--root", str(root), "render", "--stack", "prod", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "friday:gatewayMemroyMb is not a known setting; did you mean friday:gatewayMemoryMb?" in err
    assert not out.exists(), "nothing may be written for bad settings"


def test_render_refuses_a_folder_it_did_not_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "precious"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    assert main(["render", "--stack", "dev", "--out", str(out)]) == 2
    assert "was not written by render" in capsys.readouterr().err
    assert (out / "notes.txt").read_text() == "keep me"


def test_render_replaces_its_own_earlier_output(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["render", "--stack", "dev", "--out", str(out)]) == 0
    # A file an older render wrote (listed in the marker) that this render no longer produces.
    (out / "old" / "stale.txt").parent.mkdir()
    (out / "old" / "stale.txt").write_text("from an older render")
    with (out / MARKER).open("a") as f:
        f.write("old/stale.txt\n")
    assert main(["render", "--stack", "dev", "--out", str(out)]) == 0
    assert not (out / "old").exists()


def test_check_deployable_reports_the_missing_ai_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--stack", "dev", "--deployable"]) == 1
    assert "friday:anthropicApiKey is required" in capsys.readouterr().err


def test_generated_files_match_their_source() -> None:
    for path, expected in generate.expected_files().items():
        assert path.read_text() == expected, f"{path.name} is stale: run `make generate`"


def test_project_file_and_readme_declare_every_setting() -> None:
    project = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())
    readme = (REPO_ROOT / "README.md").read_text()
    keys = {f.alias for f in Settings.model_fields.values()}
    assert set(project["config"]) == keys
    for key in keys:
        assert f"`friday:{key}`" in readme
    for secret in SECRETS:
        assert f"`friday:{secret.key}`" in readme
        assert secret.key not in project["config"]
    assert project["name"] == "friday"
    assert project["runtime"]["options"] == {"toolchain": "pip", "virtualenv": ".venv"}
