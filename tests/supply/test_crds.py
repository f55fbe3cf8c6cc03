"""The Prometheus Operator CRDs: versions that agree, one Renovate group, a checksummed cache filled by
scripts/crds.sh (from a local source offline), and no companion repository in the workflows."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from infra import crds
from infra.settings import Settings
from testbed.paths import REPO_ROOT


def test_the_pinned_chart_and_operator_agree_and_every_crd_file_has_a_checksum() -> None:
    defaults = Settings.model_fields
    chart = defaults["kube_prometheus_stack_chart_version"].default
    operator = defaults["prometheus_operator_version"].default
    assert crds.CHART_OPERATOR.get(chart) == operator == crds.OPERATOR_VERSION
    pins = crds.CHECKSUMS[operator]
    assert set(crds.STACK_FILES) < set(pins) and len(pins) == 10
    assert all(re.fullmatch(r"monitoring\.coreos\.com_\w+\.yaml", f) for f in pins)
    assert all(re.fullmatch(r"[0-9a-f]{64}", d) for d in pins.values())


def test_renovate_updates_the_chart_and_the_operator_crds_in_one_group() -> None:
    config = json.loads((REPO_ROOT / "renovate.json").read_text())
    source = (REPO_ROOT / "infra" / "crds.py").read_text()
    [manager] = [m for m in config["customManagers"] if "infra/crds" in m["managerFilePatterns"][0]]
    [pattern] = manager["matchStrings"]
    [match] = re.finditer(pattern.replace("(?<", "(?P<"), source)
    assert match["currentValue"] == crds.OPERATOR_VERSION
    assert manager["depNameTemplate"] == "prometheus-operator/prometheus-operator"
    operator = "prometheus-operator/prometheus-operator"
    [group] = [r for r in config["packageRules"] if operator in r.get("matchDepNames", [])]
    assert set(group["matchDepNames"]) == {"kube-prometheus-stack", "prometheus-operator/prometheus-operator"}
    assert group["groupName"]


def _source_of_stack_files(folder: Path) -> Path:
    """A local source holding the stack's CRD files, copied from the checked cache."""
    folder.mkdir()
    for file, data in crds.verified(files=crds.STACK_FILES).items():
        (folder / file).write_bytes(data)
    return folder


def _script(tmp_path: Path, source: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FRIDAY_CRD_CACHE": str(tmp_path / "cache"), "FRIDAY_CRD_SOURCE": str(source)}
    return subprocess.run(
        [str(REPO_ROOT / "scripts" / "crds.sh")], capture_output=True, text=True, timeout=60, env=env, check=False
    )


def test_the_script_caches_a_local_source_checked_and_says_what_it_did(tmp_path: Path) -> None:
    source = _source_of_stack_files(tmp_path / "source")
    done = _script(tmp_path, source)
    assert done.returncode == 0, done.stderr
    cache = tmp_path / "cache" / crds.OPERATOR_VERSION
    assert f"(offline source {source})" in done.stdout
    assert "5 of 10 files in the cache, each matching its pinned sha256" in done.stdout
    assert "note: 5 file(s) not cached" in done.stderr
    assert sorted(p.name for p in cache.iterdir()) == sorted(crds.STACK_FILES)
    again = _script(tmp_path, source)
    assert again.stdout.count("already in the cache, sha256 checked") == 5


def test_offline_with_the_stacks_files_cached_the_download_failures_are_said_not_fatal(tmp_path: Path) -> None:
    """A clone without the offline CRD source on a machine without network: the cache (outside the clone) holds the
    stack's five files, the other five cannot be downloaded: the tests can run, and the script says so."""
    source = _source_of_stack_files(tmp_path / "source")
    assert _script(tmp_path, source).returncode == 0
    env = {k: v for k, v in os.environ.items() if k not in ("FRIDAY_CRD_SOURCE", "no_proxy", "NO_PROXY")}
    env |= {
        "FRIDAY_CRD_CACHE": str(tmp_path / "cache"),
        "https_proxy": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
    }

    def crds_script() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "infra.crds"],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            cwd=REPO_ROOT,
            check=False,
        )

    done = crds_script()
    assert done.returncode == 0, done.stderr
    assert "(download from the operator's repository)" in done.stdout
    assert done.stdout.count("already in the cache, sha256 checked") == 5
    assert done.stdout.count("failed (") == 5 and "5 of 10 files in the cache" in done.stdout
    assert "note: 5 file(s) not cached" in done.stderr
    # Without the stack's own files it is an error.
    (tmp_path / "cache" / crds.OPERATOR_VERSION / "monitoring.coreos.com_probes.yaml").unlink()
    again = crds_script()
    assert again.returncode == 1 and "monitoring.coreos.com_probes.yaml" in again.stderr


def test_a_file_that_does_not_match_its_checksum_never_reaches_the_cache(tmp_path: Path) -> None:
    source = _source_of_stack_files(tmp_path / "source")
    probes = source / "monitoring.coreos.com_probes.yaml"
    probes.write_bytes(probes.read_bytes().replace(b"Probe", b"Prob3", 1))
    done = _script(tmp_path, source)
    assert done.returncode == 1
    assert re.search(r"probes\.yaml: sha256 [0-9a-f]{64} is not the pinned", done.stderr)
    assert not (tmp_path / "cache" / crds.OPERATOR_VERSION / probes.name).exists()


def test_a_tampered_cache_is_refused_when_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = _source_of_stack_files(tmp_path / "source")
    monkeypatch.setenv("FRIDAY_CRD_CACHE", str(tmp_path))
    crds.fetch(source=source)
    assert set(crds.verified(files=crds.STACK_FILES)) == set(crds.STACK_FILES)
    rules = tmp_path / crds.OPERATOR_VERSION / "monitoring.coreos.com_prometheusrules.yaml"
    rules.write_bytes(rules.read_bytes() + b"\n# changed\n")
    with pytest.raises(crds.CrdError, match=r"prometheusrules\.yaml: sha256 .* is not the pinned"):
        crds.verified(files=crds.STACK_FILES)
    # A later run replaces the bad copy with the checked one.
    done, missing = crds.fetch(source=source)
    assert any("cached copy refused" in line for line in done) and len(missing) == 5
    assert set(crds.verified(files=crds.STACK_FILES)) == set(crds.STACK_FILES)


def test_tests_and_workflows_get_the_crds_from_the_script_not_a_companion_repository() -> None:
    test_sh = (REPO_ROOT / "scripts" / "test.sh").read_text()
    assert test_sh.index("scripts/bootstrap.sh dev") < test_sh.index("scripts/crds.sh") < test_sh.index("pytest")
    ci = yaml.safe_load((REPO_ROOT / ".github" / "workflows" / "ci.yml").read_text())
    steps = ci["jobs"]["test"]["steps"]
    runs = [s.get("run", "") for s in steps]
    first_test = next(i for i, r in enumerate(runs) if "pytest" in r)
    assert any("scripts/crds.sh" in r for r in runs[:first_test])
    checkouts = [s["with"].get("repository") for s in steps if str(s.get("uses", "")).startswith("actions/checkout")]
    assert checkouts == [None, "MacCracken/secureyeoman"], "only this repository and the gateway's source"
    preview = (REPO_ROOT / ".github" / "workflows" / "preview.yml").read_text()
    assert preview.index("run: scripts/crds.sh") < preview.index("pulumi preview --stack")
    assert "shared" not in (REPO_ROOT / "testbed" / "paths.py").read_text()
