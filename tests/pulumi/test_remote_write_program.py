"""Remote-write credentials through the Pulumi program (Docker target, mocks): each target's entry of
friday:remoteWriteCredentials lands in Prometheus' config volume as a 0400 file of its own, as a
secret, and nowhere in prometheus.yml."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi

from infra.program.main import run
from infra.targets.kubernetes import KubernetesStack
from testbed.pulumi_harness import FAKE_AI_KEY, SECRET_SIG, Recorder, configure, delivered, deploy
from tests.support.crd_cache import TEST_OPERATOR
from tests.support.kubernetes import KUBE_BASE

SECRET_MARK = "1b47061264138c4ac30d75fd1eb44270"
PASSWORD = "mimir-password-correct-horse"
TOKEN = "vm-bearer-token-battery-staple"
TARGETS = [
    {"name": "mimir", "url": "https://mimir.example.org/api/v1/push", "auth": "basic", "username": "t1"},
    {"name": "vm", "url": "https://vm.example.org/api/v1/write", "auth": "bearer"},
]


def unwrap(value: Any) -> Any:
    return value["value"] if isinstance(value, dict) and SECRET_SIG in value else value


def test_each_credential_is_a_secret_file_of_its_own() -> None:
    def check(rec: Recorder, _: Any) -> None:
        uploads = delivered(rec, "prometheus")
        assert uploads[SECRET_SIG] == SECRET_MARK, "the credential uploads must be secret"
        by_path = {u["file"]: u for u in unwrap(uploads)}
        mimir = by_path["/etc/prometheus/remote-write/mimir"]
        vm = by_path["/etc/prometheus/remote-write/vm"]
        assert mimir["content"] == PASSWORD and vm["content"] == TOKEN
        assert {mimir["permissions"], vm["permissions"]} == {"0400"}
        # No owner in the upload (the provider's tar sets none): config-init gives each file to Prometheus.
        assert "owner" not in mimir and "owner" not in vm
        script = rec.named("friday-dev-prometheus-config-init").inputs["command"][2]
        for path in ("/etc/prometheus/remote-write/mimir", "/etc/prometheus/remote-write/vm"):
            assert f"chmod 0400 {path} && chown 65534:65534 {path}" in script
        config = by_path["/etc/prometheus/prometheus.yml"]["content"]
        assert "password_file: remote-write/mimir" in config
        assert "credentials_file: remote-write/vm" in config
        everything_else = json.dumps([u for p, u in by_path.items() if "/remote-write/" not in p])
        assert PASSWORD not in everything_else and TOKEN not in everything_else

    credentials = json.dumps({"mimir": PASSWORD, "vm": TOKEN})
    deploy(
        check,
        {"remoteWrite": TARGETS},
        secrets={"anthropicApiKey": FAKE_AI_KEY, "remoteWriteCredentials": credentials},
    )


def test_kubernetes_install_mode_fills_the_remote_write_secret_with_each_targets_entry(crd_cache: Path) -> None:
    credentials = json.dumps({"mimir": PASSWORD, "vm": TOKEN})
    secrets = {"anthropicApiKey": FAKE_AI_KEY, "remoteWriteCredentials": credentials}
    plain = {
        **KUBE_BASE,
        "kubernetesMonitoringMode": "install",
        "prometheusOperatorVersion": TEST_OPERATOR,
        "remoteWrite": TARGETS,
    }
    recorder = configure("prod", plain, secrets)

    def check(rec: Recorder) -> None:
        [secret] = [
            r for r in rec.of_type("kubernetes:core/v1:Secret") if r.inputs["metadata"]["name"] == "friday-remote-write"
        ]
        data = secret.inputs["stringData"]
        assert data[SECRET_SIG] == SECRET_MARK, "the whole stringData is secret"
        assert unwrap(data) == {"mimir-username": "t1", "mimir-credential": PASSWORD, "vm-credential": TOKEN}
        [release] = [
            r for r in rec.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["name"] == "kube-prometheus-stack"
        ]
        values = json.dumps(release.inputs["values"])
        assert PASSWORD not in values and TOKEN not in values
        assert '"remoteWrite"' in values

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> pulumi.Output[None]:
        stack = run()
        assert isinstance(stack, KubernetesStack)
        ids = [r.id for r in stack.resources.values()] + [r.id for r in stack.releases.values()]
        return pulumi.Output.all(*ids).apply(lambda _: check(recorder))

    program()
