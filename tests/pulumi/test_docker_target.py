"""The real Pulumi program under mocks: what the Docker target declares, and what it refuses."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from infra.program.main import run
from infra.settings import SettingsError
from infra.stack import gateway
from infra.targets import docker_plan
from testbed.paths import REPO_ROOT
from testbed.pulumi_harness import FAKE_AI_KEY, SECRET_SIG, Recorder, configure, deploy, resolved_exports

CONTAINER = "docker:index/container:Container"
PASSWORD = "random:index/randomPassword:RandomPassword"


def gateway_inputs(recorder: Recorder) -> dict[str, Any]:
    return dict(recorder.named("friday-dev-gateway").inputs)


def test_gateway_container_is_hardened_and_limited() -> None:
    def check(rec: Recorder, _: Any) -> None:
        c = gateway_inputs(rec)
        assert c["user"] == "1000:1000"
        assert c["readOnly"] is True
        assert "/tmp" in c["tmpfs"]
        assert c["securityOpts"] == ["no-new-privileges"]
        assert c["capabilities"] == {"drops": ["ALL"]}
        assert c["memory"] == 768 and c["memorySwap"] == 768
        assert c["cpus"] == "0.5"
        assert c["restart"] == "unless-stopped"
        assert c["logDriver"] == "json-file"
        assert c["logOpts"] == {"max-size": "10m", "max-file": "5"}
        assert c["stopSignal"] == "SIGTERM"

    deploy(check, {"gatewayMemoryMb": 768, "gatewayCpuMillicores": 500})


def test_image_is_pinned_and_pulled_by_tag() -> None:
    def check(rec: Recorder, _: Any) -> None:
        images = {r.inputs["name"] for r in rec.of_type("docker:index/remoteImage:RemoteImage")}
        assert "ghcr.io/maccracken/secureyeoman-core:0.2.0" in images
        assert all(":" in i.rsplit("/", 1)[-1] and not i.endswith(":latest") for i in images)
        assert gateway_inputs(rec)["image"] == "sha256:friday-dev-image-ghcr.io-maccracken-secureyeoman-core-0.2.0"

    deploy(check, {"gatewayTag": "0.2.0"})


def test_port_published_on_loopback_by_default() -> None:
    def check(rec: Recorder, stack: Any) -> None:
        assert gateway_inputs(rec)["ports"] == [
            {"internal": 18789, "external": 18789, "ip": "127.0.0.1", "protocol": "tcp"}
        ]
        assert stack.urls["gateway/http"] == "http://127.0.0.1:18789"
        assert {"prometheus/http", "alertmanager/http", "grafana/http", "loki/http"} <= set(stack.urls)
        assert all(url.startswith("http://127.0.0.1:") for url in stack.urls.values())

    deploy(check)


def test_port_opened_only_by_a_setting() -> None:
    def check(rec: Recorder, stack: Any) -> None:
        [port] = gateway_inputs(rec)["ports"]
        assert (port["ip"], port["external"]) == ("0.0.0.0", 8080)
        assert stack.urls["gateway/http"] == "http://localhost:8080"

    deploy(check, {"gatewayBindAddress": "0.0.0.0", "gatewayHostPort": 8080})


def test_config_file_is_delivered_through_a_config_volume() -> None:
    def check(rec: Recorder, _: Any) -> None:
        c = gateway_inputs(rec)
        assert "uploads" not in c, "an upload into a read-only root is refused by the engine"
        init = rec.named("friday-dev-gateway-config-init").inputs
        [upload] = init["uploads"]
        assert upload["file"] == gateway.CONFIG_PATH
        assert upload["permissions"] == "0444" and "owner" not in upload and "group" not in upload
        # Nothing changes owner: the init step only prunes, with no capability at all.
        assert init["command"][0] == "find" and init["capabilities"] == {"drops": ["ALL"]}
        config = yaml.safe_load(upload["content"])
        assert config["core"]["dataDir"] == gateway.DATA_DIR
        assert config["gateway"]["host"] == "0.0.0.0"
        assert config["logging"]["output"] == [{"type": "stdout", "format": "json"}]
        # The init container's root is writable (the engine extracts uploads at its `/`) and the
        # file lands on the config volume, which the gateway mounts read-only at the same path.
        assert init["readOnly"] is False and init["networkMode"] == "none"
        assert init["volumes"] == [
            {"volumeName": "friday-dev-gateway-config", "containerPath": gateway.CONFIG_DIR, "readOnly": False}
        ]
        assert init["command"][:2] == ["find", gateway.CONFIG_DIR] and init["command"][-1] == "-delete"
        assert init["attach"] is True and init["mustRun"] is False
        mounts = {v["containerPath"]: v for v in c["volumes"]}
        assert mounts[gateway.DATA_DIR]["volumeName"] == "friday-dev-gateway-data"
        assert mounts[gateway.CONFIG_DIR] == {
            "volumeName": "friday-dev-gateway-config",
            "containerPath": gateway.CONFIG_DIR,
            "readOnly": True,
        }
        assert "hostPath" not in str(c["volumes"])
        labels = {label["label"]: label["value"] for label in c["labels"]}
        assert len(labels[docker_plan.CONFIG_DIGEST_LABEL]) == 64

    deploy(check)


def test_no_upload_goes_to_a_container_with_a_read_only_root() -> None:
    def check(rec: Recorder, _: Any) -> None:
        containers = rec.of_type(CONTAINER)
        with_uploads = [r for r in containers if r.inputs.get("uploads")]
        assert with_uploads, "the stack delivers config files"
        for r in with_uploads:
            assert r.inputs.get("readOnly") is False, f"{r.name} gets uploads on a read-only root"
        for r in containers:
            if r.name.endswith("-config-init"):
                continue
            assert r.inputs.get("readOnly") is True, f"{r.name} must run with a read-only root"

    deploy(check, {"proxyEnabled": True, "proxyTlsSource": "self-signed", "swaggerUiEnabled": True})


def test_healthcheck_on_health() -> None:
    def check(rec: Recorder, _: Any) -> None:
        hc = gateway_inputs(rec)["healthcheck"]
        assert hc["tests"] == ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:18789/health"]
        assert gateway_inputs(rec)["wait"] is True

    deploy(check)


def test_volume_is_given_to_the_service_user_by_a_minimal_init_container() -> None:
    def check(rec: Recorder, _: Any) -> None:
        init = rec.named("friday-dev-gateway-data-init").inputs
        assert init["command"] == ["chown", "2000:3000", "/volume"]
        assert init["capabilities"] == {"drops": ["ALL"], "adds": ["CHOWN"]}
        assert init["networkMode"] == "none"
        assert init["attach"] is True and init["mustRun"] is False
        assert init["volumes"] == [
            {"volumeName": "friday-dev-gateway-data", "containerPath": "/volume", "readOnly": False}
        ]
        assert init["readOnly"] is True
        assert gateway_inputs(rec)["user"] == "2000:3000"

    deploy(check, {"gatewayUid": 2000, "gatewayGid": 3000})


def test_network_alias_is_the_service_name() -> None:
    def check(rec: Recorder, _: Any) -> None:
        assert gateway_inputs(rec)["networksAdvanced"] == [{"name": "friday-dev", "aliases": ["gateway"]}]

    deploy(check)


def test_missing_secrets_are_generated_and_stay_secret() -> None:
    def check(rec: Recorder, _: Any) -> None:
        generated = {r.name for r in rec.of_type(PASSWORD)}
        assert generated == {
            "friday-signingKey",
            "friday-tokenSecret",
            "friday-encryptionKey",
            "friday-adminPassword",
            "friday-grafanaAdminPassword",
            "friday-grafanaSecretKey",
            "friday-alertmanagerPassword",
        }
        for r in rec.of_type(PASSWORD):
            assert r.inputs["special"] is False and r.inputs["length"] >= 32
        envs = gateway_inputs(rec)["envs"]
        assert envs[SECRET_SIG] == "1b47061264138c4ac30d75fd1eb44270", "envs must be a secret"
        values = dict(e.split("=", 1) for e in envs["value"])
        assert values["SECUREYEOMAN_SIGNING_KEY"].startswith("generated-friday-signingKey")
        assert values["ANTHROPIC_API_KEY"] == FAKE_AI_KEY

    deploy(check)


def test_given_secrets_are_used_not_generated() -> None:
    given = {"anthropicApiKey": FAKE_AI_KEY, "signingKey": "s" * 40, "adminPassword": "correct-horse-battery"}

    def check(rec: Recorder, _: Any) -> None:
        generated = {r.name for r in rec.of_type(PASSWORD)}
        assert generated == {
            "friday-tokenSecret",
            "friday-encryptionKey",
            "friday-grafanaAdminPassword",
            "friday-grafanaSecretKey",
            # Always generated: its bcrypt hash is made from it at deploy.
            "friday-alertmanagerPassword",
        }
        envs = gateway_inputs(rec)["envs"]
        values = dict(e.split("=", 1) for e in envs["value"])
        assert values["SECUREYEOMAN_SIGNING_KEY"] == "s" * 40
        assert values["SECUREYEOMAN_ADMIN_PASSWORD"] == "correct-horse-battery"

    deploy(check, secrets=given)


def test_stack_outputs_carry_urls_and_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    given = {"anthropicApiKey": FAKE_AI_KEY, "metricsToken": "metrics-token-0123456789", "signingKey": "s" * 40}
    configure("dev", {}, given)
    resolved = resolved_exports(monkeypatch)
    assert resolved["gatewayUrl"] == "http://127.0.0.1:18789"
    assert resolved["gatewayHealthUrl"] == "http://127.0.0.1:18789/health"
    assert resolved["gatewayMetricsUrl"] == "http://127.0.0.1:18789/metrics"
    assert resolved["target"] == "docker"
    assert resolved["urls"]["gateway/http"] == resolved["gatewayUrl"]
    text = repr(resolved)
    for value in given.values():
        assert value not in text
    assert "generated-" not in text, "a generated secret reached a stack output"
    # The README names every output the default stack has.
    readme = (REPO_ROOT / "README.md").read_text()
    [listed] = re.findall(r"Stack outputs \(`pulumi stack output`\):(.*?)\n\n", readme, re.S)
    assert set(resolved) <= set(re.findall(r"`(\w+)`", listed)), "README's stack outputs miss one"


def refused(plain: dict[str, Any], secrets: dict[str, str], expected: str) -> None:
    recorder = configure("dev", plain, secrets)
    with pytest.raises(SettingsError, match=expected):
        run()
    assert recorder.resources == [], "bad settings must fail before any resource is declared"


def test_missing_ai_key_fails_before_any_resource() -> None:
    refused({}, {}, r"friday:anthropicApiKey is required because aiProvider = 'anthropic'")


def test_short_secret_fails_without_showing_it() -> None:
    recorder = configure("dev", {}, {"anthropicApiKey": FAKE_AI_KEY, "signingKey": "short-key"})
    with pytest.raises(SettingsError, match=r"friday:signingKey must be at least 32 characters") as err:
        run()
    assert "short-key" not in str(err.value)
    assert recorder.resources == []


def test_unknown_key_from_the_engine_is_refused() -> None:
    refused({"gatewayPrt": "1"}, {"anthropicApiKey": FAKE_AI_KEY}, "did you mean friday:gatewayPort")


def test_secret_given_in_plain_text_is_refused() -> None:
    refused({"anthropicApiKey": FAKE_AI_KEY}, {}, "stored in plain text")
