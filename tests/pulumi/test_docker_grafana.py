"""The Grafana container the Docker target declares: hardened, provisioned by uploads, secret file."""

from __future__ import annotations

import json
from typing import Any

import yaml

from infra.stack import grafana
from testbed.pulumi_harness import FAKE_AI_KEY, SECRET_SIG, Recorder, delivered, deploy

SECRET_MARK = "1b47061264138c4ac30d75fd1eb44270"


def grafana_inputs(recorder: Recorder) -> dict[str, Any]:
    return dict(recorder.named("friday-dev-grafana").inputs)


def unwrap(value: Any) -> Any:
    """The plain value of a mocked input that may carry the engine's secret marker."""
    return value["value"] if isinstance(value, dict) and SECRET_SIG in value else value


def uploads_by_path(recorder: Recorder) -> dict[str, dict[str, Any]]:
    return {u["file"]: u for u in unwrap(delivered(recorder, "grafana"))}


def envs(recorder: Recorder) -> list[str]:
    listed: list[str] = unwrap(grafana_inputs(recorder)["envs"])
    return listed


def test_grafana_container_is_hardened_limited_and_on_loopback() -> None:
    def check(rec: Recorder, stack: Any) -> None:
        c = grafana_inputs(rec)
        assert c["user"] == "472:0"
        assert c["readOnly"] is True and "/tmp" in c["tmpfs"]
        assert c["capabilities"] == {"drops": ["ALL"]}
        assert c["securityOpts"] == ["no-new-privileges"]
        assert c["memory"] == 640 and c["memorySwap"] == 640 and c["cpus"] == "0.25"
        assert c["ports"] == [{"internal": 3000, "external": 3000, "ip": "127.0.0.1", "protocol": "tcp"}]
        assert c["healthcheck"]["tests"] == ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:3000/api/health"]
        assert c["wait"] is True
        assert c["logOpts"] == {"max-size": "10m", "max-file": "5"}
        assert stack.urls["grafana/http"] == "http://127.0.0.1:3000"
        images = {r.inputs["name"] for r in rec.of_type("docker:index/remoteImage:RemoteImage")}
        assert "grafana/grafana-oss:12.1.0" in images

    deploy(check, {"grafanaMemoryMb": 640, "grafanaCpuMillicores": 250})


def test_provisioning_and_dashboards_are_uploaded_into_the_config_volume() -> None:
    def check(rec: Recorder, _: Any) -> None:
        c = grafana_inputs(rec)
        mounts = {v["containerPath"]: v["volumeName"] for v in c["volumes"]}
        assert mounts[grafana.CONFIG_DIR] == "friday-dev-grafana-config"
        assert mounts[grafana.DATA_DIR] == "friday-dev-grafana-data"
        uploads = uploads_by_path(rec)
        datasources = yaml.safe_load(uploads[grafana.DATASOURCES_PATH]["content"])
        assert {d["uid"] for d in datasources["datasources"]} == {
            "friday-prometheus",
            "friday-loki",
            "friday-alertmanager",
        }
        assert yaml.safe_load(uploads[grafana.DASHBOARD_PROVIDERS_PATH]["content"])["providers"]
        gateway = json.loads(uploads[f"{grafana.DASHBOARDS_DIR}/gateway.json"]["content"])
        assert gateway["uid"] == "friday-gateway"
        assert f"GF_PATHS_PROVISIONING={grafana.PROVISIONING_DIR}" in envs(rec)
        assert "GF_AUTH_ANONYMOUS_ENABLED=true" in envs(rec)
        init = rec.named("friday-dev-grafana-data-init").inputs
        assert init["command"] == ["chown", "472:0", "/volume"]

    deploy(check, {"grafanaAnonymousEnabled": True})


def test_admin_password_is_generated_and_uploaded_as_a_secret_file() -> None:
    def check(rec: Recorder, _: Any) -> None:
        upload = uploads_by_path(rec)[grafana.ADMIN_PASSWORD_PATH]
        # No owner in the upload (the provider's tar sets none): config-init gives the file to Grafana.
        assert upload["permissions"] == "0400" and "owner" not in upload and "group" not in upload
        init = rec.named("friday-dev-grafana-config-init").inputs
        assert init["capabilities"] == {"drops": ["ALL"], "adds": ["CHOWN"]}
        script = init["command"][2]
        assert init["command"][:2] == ["sh", "-c"]
        assert f"chmod 0400 {grafana.ADMIN_PASSWORD_PATH} && chown 472:0 {grafana.ADMIN_PASSWORD_PATH}" in script
        assert f"chmod 0400 {grafana.SECRET_KEY_PATH} && chown 472:0 {grafana.SECRET_KEY_PATH}" in script
        # The engine marks the whole uploads input secret because one upload is.
        assert delivered(rec, "grafana")[SECRET_SIG] == SECRET_MARK, "the password upload must be a secret"
        assert upload["content"].startswith("generated-friday-grafanaAdminPassword")
        assert f"GF_SECURITY_ADMIN_PASSWORD__FILE={grafana.ADMIN_PASSWORD_PATH}" in envs(rec)
        key = uploads_by_path(rec)[grafana.SECRET_KEY_PATH]
        assert key["permissions"] == "0400" and key["content"].startswith("generated-friday-grafanaSecretKey")
        assert f"GF_SECURITY_SECRET_KEY__FILE={grafana.SECRET_KEY_PATH}" in envs(rec)
        assert "generated-" not in json.dumps(envs(rec))

    deploy(check)


def test_given_admin_password_is_used() -> None:
    def check(rec: Recorder, _: Any) -> None:
        upload = uploads_by_path(rec)[grafana.ADMIN_PASSWORD_PATH]
        assert upload["content"] == "grafana-admin-correct-horse"
        assert "friday-grafanaAdminPassword" not in {r.name for r in rec.resources}

    deploy(check, secrets={"anthropicApiKey": FAKE_AI_KEY, "grafanaAdminPassword": "grafana-admin-correct-horse"})
