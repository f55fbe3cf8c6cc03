"""Remote-write targets (friday:remoteWrite): the rendered prometheus.yml on Docker and bare metal
passes promtool, holds no credential (each is a file of its own), keeps the environment label; the
credentials secret is judged before deploy without being shown."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.alerting import rules
from infra.monitoring import remote_write
from infra.monitoring.prometheus_config import ALERTMANAGER_PASSWORD_FILE
from infra.preflight import secret_value_problems
from infra.settings import missing_required_secrets
from infra.settings.remote_write import CREDENTIALS_KEY, QUEUE_DEFAULTS, credential_key
from infra.settings.secrets import placeholder
from testbed.paths import REPO_ROOT
from testbed.settings import settings_of
from tests.support.alerts import check_config
from tests.support.render import load_yaml, prometheus_dir, render_into

TARGETS: list[dict[str, Any]] = [
    {
        "name": "mimir",
        "url": "https://mimir.example.org/api/v1/push",
        "auth": "basic",
        "username": "tenant-1",
        "queue": {"maxShards": 20, "maxBackoff": "10s"},
    },
    {"name": "vm", "url": "https://vm.example.org/api/v1/write", "auth": "bearer"},
    {"name": "thanos", "url": "http://127.0.0.1:19291/api/v1/receive"},
]
SECRET = "s3cr3t-credential-value"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    settings = settings_of({"environment": "prod", "remoteWrite": TARGETS}, frozenset({CREDENTIALS_KEY}))
    return render_into(settings, tmp_path_factory.mktemp("render") / "out")


def test_docker_config_maps_every_target_and_passes_promtool(rendered: Path) -> None:
    config_dir = prometheus_dir(rendered)
    result = check_config(config_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    config = load_yaml(config_dir / "prometheus.yml")
    by_name = {w["name"]: w for w in config["remote_write"]}
    assert list(by_name) == ["mimir", "vm", "thanos"]
    assert by_name["mimir"]["basic_auth"] == {"username": "tenant-1", "password_file": "remote-write/mimir"}
    assert by_name["vm"]["authorization"] == {"type": "Bearer", "credentials_file": "remote-write/vm"}
    assert "basic_auth" not in by_name["thanos"] and "authorization" not in by_name["thanos"]
    # Queue: Prometheus 3.x's defaults written out, the target's own overrides on top.
    assert by_name["thanos"]["queue_config"] == {
        "capacity": 10000,
        "max_shards": 50,
        "min_shards": 1,
        "max_samples_per_send": 2000,
        "batch_send_deadline": "5s",
        "min_backoff": "30ms",
        "max_backoff": "5s",
    }
    assert by_name["mimir"]["queue_config"]["max_shards"] == 20
    assert by_name["mimir"]["queue_config"]["max_backoff"] == "10s"
    # Every sample sent carries the stack's environment (external label) and so does every scrape job.
    assert config["global"]["external_labels"]["environment"] == "prod"
    assert all(j["static_configs"][0]["labels"]["environment"] == "prod" for j in config["scrape_configs"])


def test_credentials_are_files_of_their_own_never_inline(rendered: Path) -> None:
    text = (prometheus_dir(rendered) / "prometheus.yml").read_text()
    for inline in ("password:", "credentials:", "bearer_token:", "<secret:"):
        assert inline not in text
    doc = json.loads((rendered / "services/prometheus.json").read_text())
    # Besides Alertmanager's web password (infra/monitoring/web_auth.py), one file per target with auth.
    files = {f["path"]: f for f in doc["secret_files"] if f["path"] != ALERTMANAGER_PASSWORD_FILE}
    assert set(files) == {"/etc/prometheus/remote-write/mimir", "/etc/prometheus/remote-write/vm"}
    assert files["/etc/prometheus/remote-write/mimir"]["content"] == placeholder(credential_key("mimir"))
    assert {f["mode"] for f in files.values()} == {"0400"}


def test_bare_metal_config_has_the_same_targets_and_passes_promtool(rendered: Path) -> None:
    host_dir = rendered / "host/prometheus"
    host = load_yaml(host_dir / "prometheus.yml")
    docker = load_yaml(prometheus_dir(rendered) / "prometheus.yml")
    assert host["remote_write"] == docker["remote_write"]
    result = check_config(host_dir)
    assert result.returncode == 0, result.stdout + result.stderr


def test_without_targets_there_is_no_remote_write(tmp_path: Path) -> None:
    out = render_into(settings_of({}), tmp_path / "out")
    assert "remote_write" not in load_yaml(prometheus_dir(out) / "prometheus.yml")
    doc = json.loads((out / "services/prometheus.json").read_text())
    assert [f["path"] for f in doc["secret_files"]] == [ALERTMANAGER_PASSWORD_FILE]


def test_the_remote_write_alert_is_loaded_only_with_targets(rendered: Path, tmp_path: Path) -> None:
    """RemoteWriteFailing (alerts/remote-write.yml) on Docker and bare metal: listed and shipped where
    remoteWrite has targets, neither where it has none."""
    rule_file = f"rules/{rules.REMOTE_WRITE_RULES.path.rsplit('/', 1)[-1]}"
    committed_text = (REPO_ROOT / rules.REMOTE_WRITE_RULES.path).read_text()
    for config_dir in (prometheus_dir(rendered), rendered / "host/prometheus"):
        assert rule_file in load_yaml(config_dir / "prometheus.yml")["rule_files"], config_dir
    assert (prometheus_dir(rendered) / rule_file).read_text() == committed_text
    out = render_into(settings_of({}), tmp_path / "out")
    for config_dir in (prometheus_dir(out), out / "host/prometheus"):
        assert rule_file not in load_yaml(config_dir / "prometheus.yml")["rule_files"], config_dir
        assert not (config_dir / rule_file).exists()


def test_the_entry_names_its_credential_file_relative_to_the_config() -> None:
    settings = settings_of({"remoteWrite": TARGETS[:1]})
    [target] = settings.remote_write
    assert remote_write.credential_path(target) == "/etc/prometheus/" + remote_write.credential_file(target)
    assert target.queue == {**QUEUE_DEFAULTS, "maxShards": 20, "maxBackoff": "10s"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("not json", "must be a JSON object"),
        ('["a"]', "must be a JSON object"),
        (json.dumps({"mimir": SECRET}), "has no credential for remote-write target 'vm'"),
        (json.dumps({"mimir": SECRET, "vm": f" {SECRET}"}), "the credential of 'vm' has surrounding spaces"),
        (json.dumps({"mimir": SECRET, "vm": SECRET, "thanos": SECRET}), "has entries for 'thanos'"),
        (json.dumps({"mimir": SECRET, "vm": SECRET}), None),
    ],
)
def test_the_credentials_secret_is_judged_and_never_shown(value: str, expected: str | None) -> None:
    settings = settings_of({"environment": "prod", "remoteWrite": TARGETS}, frozenset({CREDENTIALS_KEY}))
    problems = secret_value_problems(settings, {CREDENTIALS_KEY: value})
    if expected is None:
        assert problems == []
    else:
        [problem] = problems
        assert problem.startswith(f"friday:{CREDENTIALS_KEY}") and expected in problem
        assert SECRET not in problem


def test_targets_with_auth_need_the_credentials_secret() -> None:
    settings = settings_of({"remoteWrite": TARGETS}, frozenset({"anthropicApiKey"}))
    [problem] = missing_required_secrets(settings)
    assert f"friday:{CREDENTIALS_KEY} is required because remoteWrite targets 'mimir', 'vm' have auth" in problem
    assert missing_required_secrets(settings_of({"remoteWrite": TARGETS[2:]}, frozenset({"anthropicApiKey"}))) == []
