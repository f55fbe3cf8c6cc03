"""Prometheus and Alertmanager containers under Pulumi mocks: hardening, uploads, secrets."""

from __future__ import annotations

from typing import Any

from infra.alerting import committed
from infra.settings import load_stack
from testbed.paths import REPO_ROOT
from testbed.pulumi_harness import FAKE_AI_KEY, SECRET_SIG, Recorder, delivered, deploy

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
            if name == "prometheus":
                assert c["healthcheck"]["tests"] == [
                    "CMD",
                    "wget",
                    "-q",
                    "-O",
                    "/dev/null",
                    f"http://127.0.0.1:{port}/-/healthy",
                ]
            else:
                # Every Alertmanager path wants the credential: read from its file at each check.
                password = "/etc/alertmanager/secrets/alertmanager-password"
                url = f"http://friday:$(cat {password})@127.0.0.1:{port}/-/healthy"
                assert c["healthcheck"]["tests"] == ["CMD", "sh", "-c", f'exec wget -q -O /dev/null "{url}"']
            assert c["logOpts"] == {"max-size": "10m", "max-file": "5"}
            assert c["memory"] == c["memorySwap"] and c["memory"] > 0
            init = rec.named(f"friday-dev-{name}-data-init").inputs
            assert init["command"] == ["chown", "65534:65534", "/volume"]
        images = {r.inputs["name"] for r in rec.of_type("docker:index/remoteImage:RemoteImage")}
        assert {"prom/prometheus:v3.5.0", "prom/alertmanager:v0.28.1"} <= images
        assert inputs(rec, "prometheus")["memory"] == 2048
        assert stack.urls["prometheus/http"] == "http://127.0.0.1:9090"

    deploy(check, {"prometheusMemoryMb": 2048})


def test_prometheus_gets_config_and_rules_and_the_metrics_auth_proxy_gets_the_token() -> None:
    def check(rec: Recorder, _: Any) -> None:
        c = inputs(rec, "prometheus")
        assert "--storage.tsdb.retention.time=30d" in c["command"]
        files = uploads(rec, "prometheus")
        # The dev stack has no remote-write targets: their alert file is not shipped.
        for rel in committed.stack_rule_files(load_stack("dev")):
            name = rel.rsplit("/", 1)[-1]
            assert files[f"/etc/prometheus/rules/{name}"]["content"] == (REPO_ROOT / rel).read_text()
        assert "vector(1536)" in files["/etc/prometheus/rules/stack-constants.yml"]["content"]
        # Prometheus holds no gateway credential: it scrapes the metrics-auth proxy. Its one
        # secret file is Alertmanager's web password.
        assert "- metrics-auth:9480" in files["/etc/prometheus/prometheus.yml"]["content"]
        assert [p for p in files if p.startswith("/etc/prometheus/secrets/")] == [
            "/etc/prometheus/secrets/alertmanager-password"
        ]
        assert all(TOKEN not in str(upload["content"]) for upload in files.values())
        mounts = {v["containerPath"]: v["volumeName"] for v in c["volumes"]}
        assert mounts == {
            "/prometheus": "friday-dev-prometheus-data",
            "/etc/prometheus": "friday-dev-prometheus-config",
        }
        # The proxy: the key only in its (secret) environment, on the stack network, never published.
        proxy = inputs(rec, "metrics-auth")
        envs = proxy["envs"]
        assert envs[SECRET_SIG] == "1b47061264138c4ac30d75fd1eb44270", "envs must be a secret"
        assert dict(e.split("=", 1) for e in envs["value"])["FRIDAY_METRICS_API_KEY"] == TOKEN
        assert all(TOKEN not in str(upload["content"]) for upload in uploads(rec, "metrics-auth").values())
        assert proxy["networksAdvanced"] == [{"name": "friday-dev", "aliases": ["metrics-auth"]}]
        assert not proxy.get("ports")
        assert proxy["readOnly"] is True and proxy["user"] == "1000:1000"
        assert proxy["capabilities"] == {"adds": ["NET_BIND_SERVICE"], "drops": ["ALL"]}

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
        assert config["permissions"] == "0400" and "owner" not in config
        init = inputs(rec, "alertmanager-config-init")["command"]
        assert "chown 65534:65534 /etc/alertmanager/alertmanager.yml" in init[2]
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
        # Secret uploads anyway: the web config (the hash) and the password file are among them.
        assert uploads_are_secret(rec, "alertmanager")
        assert "receiver: heartbeat" in config["content"]
        assert config["permissions"] == "0444"

    deploy(check)
