"""Prometheus and Alertmanager containers under Pulumi mocks: hardening, uploads, secrets."""

from __future__ import annotations

from typing import Any

from infra.alerting import rules
from tests.support.paths import REPO_ROOT
from tests.support.pulumi_harness import FAKE_AI_KEY, SECRET_SIG, Recorder, delivered, deploy

TOKEN = "metrics-admin-key-0123456789abcdef"
WEBHOOK = "https://hooks.example.org/friday/8c1d2e"
SLACK = "https://hooks.slack.example/services/T000/B000/XXXX"


def inputs(rec: Recorder, service: str) -> dict[str, Any]:
    return dict(rec.named(f"friday-dev-{service}").inputs)


def uploads(rec: Recorder, service: str) -> dict[str, dict[str, Any]]:
    listed = delivered(rec, service)
    # One secret upload makes the whole list a secret Output.
    if isinstance(listed, dict) and SECRET_SIG in listed:
        listed = listed["value"]
    return {u["file"]: u for u in listed}


def uploads_are_secret(rec: Recorder, service: str) -> bool:
    listed = delivered(rec, service)
    return isinstance(listed, dict) and SECRET_SIG in listed


def test_monitoring_containers_are_hardened_pinned_and_on_loopback() -> None:
    def check(rec: Recorder, stack: Any) -> None:
        for name, port in (("prometheus", 9090), ("alertmanager", 9093)):
            c = inputs(rec, name)
            assert c["user"] == "65534:65534"
            assert c["readOnly"] is True and "/tmp" in c["tmpfs"]
            assert c["capabilities"] == {"drops": ["ALL"]}
            assert c["securityOpts"] == ["no-new-privileges"]
            assert c["ports"] == [{"internal": port, "external": port, "ip": "127.0.0.1", "protocol": "tcp"}]
            assert c["healthcheck"]["tests"] == [
                "CMD",
                "wget",
                "-q",
                "-O",
                "/dev/null",
                f"http://127.0.0.1:{port}/-/healthy",
            ]
            assert c["logOpts"] == {"max-size": "10m", "max-file": "5"}
            assert c["memory"] == c["memorySwap"] and c["memory"] > 0
            init = rec.named(f"friday-dev-{name}-data-init").inputs
            assert init["command"] == ["chown", "65534:65534", "/volume"]
        images = {r.inputs["name"] for r in rec.of_type("docker:index/remoteImage:RemoteImage")}
        assert {"prom/prometheus:v3.5.0", "prom/alertmanager:v0.28.1"} <= images
        assert inputs(rec, "prometheus")["memory"] == 2048
        assert stack.urls["prometheus/http"] == "http://127.0.0.1:9090"

    deploy(check, {"prometheusMemoryMb": 2048})


def test_prometheus_gets_config_rules_and_the_metrics_token_as_a_secret_file() -> None:
    def check(rec: Recorder, _: Any) -> None:
        c = inputs(rec, "prometheus")
        assert "--storage.tsdb.retention.time=30d" in c["command"]
        files = uploads(rec, "prometheus")
        for rel in rules.committed_rule_files():
            name = rel.rsplit("/", 1)[-1]
            assert files[f"/etc/prometheus/rules/{name}"]["content"] == (REPO_ROOT / rel).read_text()
        assert "vector(1536)" in files["/etc/prometheus/rules/stack-constants.yml"]["content"]
        assert "credentials_file: secrets/gateway-credential" in files["/etc/prometheus/prometheus.yml"]["content"]
        token = files["/etc/prometheus/secrets/gateway-credential"]
        assert uploads_are_secret(rec, "prometheus")
        assert token["content"] == TOKEN
        assert (token["permissions"], token["owner"], token["group"]) == ("0400", "65534", "65534")
        for path, upload in files.items():
            if path != "/etc/prometheus/secrets/gateway-credential":
                assert TOKEN not in str(upload["content"])
        mounts = {v["containerPath"]: v["volumeName"] for v in c["volumes"]}
        assert mounts == {
            "/prometheus": "friday-dev-prometheus-data",
            "/etc/prometheus": "friday-dev-prometheus-config",
        }

    deploy(
        check,
        {"prometheusRetentionTime": "30d", "gatewayMemoryMb": 1536},
        {"anthropicApiKey": FAKE_AI_KEY, "metricsToken": TOKEN},
    )


def test_alertmanager_config_is_filled_with_the_webhook_url_as_a_secret() -> None:
    def check(rec: Recorder, _: Any) -> None:
        files = uploads(rec, "alertmanager")
        config = files["/etc/alertmanager/alertmanager.yml"]
        assert uploads_are_secret(rec, "alertmanager")
        text = config["content"]
        assert f'url: "{WEBHOOK}"' in text
        assert "<secret:alert" not in text
        assert (config["permissions"], config["owner"]) == ("0400", "65534")
        slack = files["/etc/alertmanager/secrets/slack-url"]
        assert slack["content"] == SLACK
        assert "--cluster.listen-address=" in inputs(rec, "alertmanager")["command"]

    deploy(
        check,
        {"alertReceivers": "webhook,slack"},
        {"anthropicApiKey": FAKE_AI_KEY, "alertWebhookUrl": WEBHOOK, "alertSlackUrl": SLACK},
    )


def test_alertmanager_config_without_secrets_is_a_plain_upload() -> None:
    def check(rec: Recorder, _: Any) -> None:
        config = uploads(rec, "alertmanager")["/etc/alertmanager/alertmanager.yml"]
        assert not uploads_are_secret(rec, "alertmanager")
        assert "receiver: heartbeat" in config["content"]
        assert config["permissions"] == "0444"

    deploy(check)
