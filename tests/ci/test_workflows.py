"""The GitHub workflows: schema-valid (check-jsonschema, offline), pinned, and doing what they claim."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.settings.load import load_stack
from testbed.paths import REPO_ROOT

WORKFLOWS = REPO_ROOT / ".github" / "workflows"
# A commit SHA, with the release it is in a comment on the same line (for people and for Renovate).
PINNED_LINE = re.compile(r"^\s*- uses: [\w.-]+/[\w.-]+@[0-9a-f]{40}  # v\d+\.\d+\.\d+$")


def check_jsonschema(*files: Path) -> subprocess.CompletedProcess[str]:
    tool = Path(sys.executable).parent / "check-jsonschema"
    command = [str(tool if tool.exists() else shutil.which("check-jsonschema"))]
    return subprocess.run(  # noqa: PLW1510 - the return code is the result
        [*command, "--builtin-schema", "vendor.github-workflows", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def workflow(name: str) -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    return loaded


def steps(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in doc["jobs"].values() for step in job["steps"]]


def test_workflows_match_the_github_schema() -> None:
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {f.name for f in files} == {"ci.yml", "preview.yml"}
    result = check_jsonschema(*files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_can_fail(tmp_path: Path) -> None:
    broken = workflow("ci.yml")
    broken["jobs"]["test"]["runs-on"] = {"labels": 5}
    broken["jobs"]["test"]["timeout-minutes"] = "soon"
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(broken))
    result = check_jsonschema(path)
    assert result.returncode != 0


@pytest.mark.parametrize("name", ["ci.yml", "preview.yml"])
def test_every_action_is_pinned_to_a_commit_sha(name: str) -> None:
    uses = [step["uses"] for step in steps(workflow(name)) if "uses" in step]
    lines = [line for line in (WORKFLOWS / name).read_text().splitlines() if "uses:" in line]
    assert uses and len(lines) == len(uses)
    assert [line for line in lines if not PINNED_LINE.match(line)] == []


def test_ci_runs_lint_types_tests_and_drift_checks() -> None:
    run = "\n".join(step.get("run", "") for step in steps(workflow("ci.yml")))
    for command in (
        "ruff check",
        "ruff format --check",
        "mypy infra tests testbed bench __main__.py",
        "pytest -q -n 2 --ignore=tests/pulumi --ignore=tests/infra",
        "pytest -q tests/pulumi",
        "make check-generated",
        "scripts/bootstrap.sh dev",
    ):
        assert command in run, command
    assert workflow("ci.yml")["permissions"] == {"contents": "read"}


def test_ci_runs_every_command_of_make_test() -> None:
    # scripts/test.sh is `make test`; CI spells its steps out, so they must not drift apart.
    script = (REPO_ROOT / "scripts" / "test.sh").read_text()
    commands = [
        ".venv/bin/python" + line.split('"$py"', 1)[1].replace(' "$@"', "")
        for line in script.splitlines()
        if line.startswith("group ") and '"$py"' in line
    ]
    assert len(commands) >= 5
    run = "\n".join(step.get("run", "") for step in steps(workflow("ci.yml")))
    assert [c for c in commands if c not in run] == []


def test_preview_comments_on_the_pr_with_least_permissions() -> None:
    doc = workflow("preview.yml")
    # PyYAML (YAML 1.1) reads the key `on` as True.
    triggers = doc[True]
    assert set(triggers) == {"pull_request"}
    assert doc["permissions"] == {"contents": "read", "pull-requests": "write"}
    by_name = {s.get("name"): s for s in steps(doc)}
    assert "scripts/install-pulumi.sh" in by_name["Install the Pulumi CLI"]["run"]
    preview = by_name["pulumi preview"]
    assert 'pulumi preview --stack "$STACK"' in preview["run"]
    assert preview["env"]["STACK"] == "${{ matrix.stack }}"
    assert preview["env"]["PULUMI_BACKEND_URL"] == "${{ secrets.PULUMI_BACKEND_URL }}"
    assert preview["env"]["PULUMI_CONFIG_PASSPHRASE"] == "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"
    comment = by_name["Comment the preview on the pull request"]
    assert comment["if"] == "always()" and "gh pr comment" in comment["run"]
    assert comment["env"]["GH_TOKEN"] == "${{ secrets.GITHUB_TOKEN }}"
    # No third-party action handles the secrets: only GitHub's own checkout and setup-python.
    assert {s["uses"].split("@")[0] for s in steps(doc) if "uses" in s} == {"actions/checkout", "actions/setup-python"}


def test_preview_matrix_holds_every_stack_and_gives_kubernetes_stacks_a_kubeconfig() -> None:
    doc = workflow("preview.yml")
    stacks = doc["jobs"]["preview"]["strategy"]["matrix"]["stack"]
    all_stacks = sorted(p.name.split(".")[1] for p in REPO_ROOT.glob("Pulumi.*.yaml") if p.name != "Pulumi.yaml")
    assert sorted(stacks) == all_stacks, "every stack is previewed"
    kubernetes = sorted(s for s in all_stacks if load_stack(s).target == "kubernetes")
    assert kubernetes
    [creds] = [s for s in steps(doc) if "KUBECONFIG" in s.get("run", "")]
    assert creds["if"] == " || ".join(f"matrix.stack == '{s}'" for s in kubernetes)
    assert creds["env"]["KUBECONFIG_CONTENT"] == "${{ secrets.KUBECONFIG }}"
    assert "umask 077" in creds["run"] and "GITHUB_ENV" in creds["run"]
    # The credentials are in place before the preview runs.
    names = [s.get("name") for s in steps(doc)]
    assert names.index(creds["name"]) < names.index("pulumi preview")


def test_ci_runs_every_group_of_make_test_even_after_a_failure() -> None:
    """The CI test job mirrors scripts/test.sh: the same checks, each run even when one before it failed."""
    job = workflow("ci.yml")["jobs"]["test"]
    runs = job["steps"]
    first_check = next(i for i, step in enumerate(runs) if step.get("name") == "Lint")
    for step in runs[first_check:]:
        assert step.get("if") == "${{ !cancelled() }}", f"CI step {step.get('name')!r} stops at an earlier failure"
    commands = "\n".join(step.get("run", "") for step in runs)
    test_sh = (REPO_ROOT / "scripts" / "test.sh").read_text()
    for tool in ("ruff check", "ruff format --check", "lint-imports", "mypy infra tests testbed bench __main__.py"):
        assert tool in test_sh, f"scripts/test.sh no longer runs {tool!r}: update this test and ci.yml"
        assert tool in commands, f"ci.yml's test job does not run {tool!r} as make test does"


def test_workflows_build_the_pinned_gateway_from_its_public_repository() -> None:
    """The real gateway the tests run comes from its public repository at the commit of
    scripts/gateway-pin.env, in every job that runs tests (no companion repository)."""
    pin = dict(
        line.split("=", 1)
        for line in (REPO_ROOT / "scripts" / "gateway-pin.env").read_text().splitlines()
        if line and not line.startswith("#")
    )
    doc = workflow("ci.yml")
    for name in ("test", "engine"):
        job = doc["jobs"][name]
        [source] = [s for s in job["steps"] if s.get("with", {}).get("repository") == pin["GATEWAY_REPOSITORY"]]
        assert source["with"]["ref"] == pin["GATEWAY_COMMIT"], name
        assert job["env"]["FRIDAY_GATEWAY_SOURCE"].endswith("/" + source["with"]["path"]), name
        [node] = [s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-node@")]
        assert node["with"]["node-version"] == "20", name
