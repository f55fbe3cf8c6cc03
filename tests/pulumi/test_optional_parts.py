"""Swagger UI and the reverse proxy through the real Pulumi program under mocks."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from infra.program.main import run
from infra.settings import SettingsError
from infra.stack import proxy, swagger_ui
from testbed.paths import REPO_ROOT
from testbed.pulumi_harness import FAKE_AI_KEY, SECRET_SIG, Recorder, configure, deploy
from tests.support.tls import pem_pair

OPERATOR_PEM = pem_pair(("localhost",))
PROXY_SECRETS = {"anthropicApiKey": FAKE_AI_KEY, "proxyTlsCert": OPERATOR_PEM.cert, "proxyTlsKey": OPERATOR_PEM.key}


def container(rec: Recorder, name: str) -> dict[str, Any]:
    return dict(rec.named(f"friday-dev-{name}").inputs)


def uploads(c: dict[str, Any]) -> dict[str, Any]:
    """Uploads by path (of a config-init container); with a secret file among them the whole list is a secret."""
    listed = c["uploads"]
    if isinstance(listed, dict) and SECRET_SIG in listed:
        listed = listed["value"]
    return {u["file"]: u for u in listed}


def test_swagger_ui_container_serves_the_repository_spec() -> None:
    def check(rec: Recorder, stack: Any) -> None:
        c = container(rec, swagger_ui.NAME)
        assert c["user"] == "101:101" and c["readOnly"] is True
        assert c["ports"] == [{"internal": 8080, "external": 18790, "ip": "127.0.0.1", "protocol": "tcp"}]
        assert c["capabilities"] == {"drops": ["ALL"]}
        assert c["memory"] == swagger_ui.RESOURCES.limits.memory_mb
        assert c["healthcheck"]["tests"][:2] == ["CMD", "wget"]
        assert c["command"][0] == "/usr/sbin/nginx"
        files = uploads(container(rec, f"{swagger_ui.NAME}-config-init"))
        spec = files[f"{swagger_ui.CONFIG_DIR}/{swagger_ui.SPEC_FILE}"]["content"]
        assert spec == (REPO_ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8")
        images = {r.inputs["name"] for r in rec.of_type("docker:index/remoteImage:RemoteImage")}
        assert "swaggerapi/swagger-ui:v5.20.7" in images
        assert stack.urls["swagger-ui/http"] == "http://127.0.0.1:18790"

    deploy(check, {"swaggerUiEnabled": True})


def test_swagger_ui_on_prod_is_refused_before_any_resource() -> None:
    recorder = configure("prod", {"environment": "prod", "swaggerUiEnabled": True}, {"anthropicApiKey": FAKE_AI_KEY})
    with pytest.raises(SettingsError, match="swagger-ui' to friday:force"):
        run()
    assert recorder.resources == []


def test_nginx_proxy_with_the_operators_certificate(monkeypatch: pytest.MonkeyPatch) -> None:
    exported: dict[str, Any] = {}
    monkeypatch.setattr(pulumi, "export", exported.__setitem__)

    def check(rec: Recorder, stack: Any) -> None:
        c = container(rec, proxy.NAME)
        assert c["user"] == "101:101" and c["readOnly"] is True
        assert c["capabilities"] == {"drops": ["ALL"]}
        assert {(p["internal"], p["external"], p["ip"]) for p in c["ports"]} == {
            (8080, 80, "127.0.0.1"),
            (8443, 443, "127.0.0.1"),
        }
        files = uploads(container(rec, f"{proxy.NAME}-config-init"))
        assert (
            container(rec, f"{proxy.NAME}-config-init")["uploads"][SECRET_SIG] == "1b47061264138c4ac30d75fd1eb44270"
        ), "uploads with a key must be secret"
        cert, key = files[proxy.CERT_PATH], files[proxy.KEY_PATH]
        assert cert["content"] == PROXY_SECRETS["proxyTlsCert"]
        assert key["content"] == PROXY_SECRETS["proxyTlsKey"] and key["permissions"] == "0400"
        assert "owner" not in key
        assert f"chown 101:101 {proxy.KEY_PATH}" in container(rec, f"{proxy.NAME}-config-init")["command"][2]
        assert "ssl_certificate /etc/friday-proxy/tls/cert.pem;" in files["/etc/friday-proxy/nginx.conf"]["content"]
        assert "ports" not in container(rec, "gateway") or container(rec, "gateway")["ports"] in ([], None)
        assert rec.of_type("tls:index/selfSignedCert:SelfSignedCert") == []
        assert exported["proxyUrl"] == "https://127.0.0.1:443"
        assert "gatewayUrl" not in exported, "the gateway has no published URL behind the proxy"
        assert "operator-key" not in repr({k: v for k, v in exported.items() if not isinstance(v, pulumi.Output)})

    deploy(check, {"proxyEnabled": True}, secrets=PROXY_SECRETS)


def test_caddy_proxy_keeps_only_net_bind_service() -> None:
    def check(rec: Recorder, _: Any) -> None:
        c = container(rec, proxy.NAME)
        assert c["capabilities"] == {"drops": ["ALL"], "adds": ["NET_BIND_SERVICE"]}
        assert c["command"][:2] == ["caddy", "run"]
        assert "/etc/friday-proxy/Caddyfile" in uploads(container(rec, f"{proxy.NAME}-config-init"))
        envs = c["envs"]["value"] if SECRET_SIG in c["envs"] else c["envs"]
        assert {e.split("=")[0] for e in envs} >= {"XDG_DATA_HOME", "XDG_CONFIG_HOME"}

    deploy(
        check,
        {"proxyEnabled": True, "proxyKind": "caddy", "proxyRateLimitPerSecond": 0, "proxyLoginRateLimitPerMinute": 0},
        secrets=PROXY_SECRETS,
    )


def test_self_signed_certificate_is_generated_and_secret() -> None:
    def check(rec: Recorder, _: Any) -> None:
        [cert] = rec.of_type("tls:index/selfSignedCert:SelfSignedCert")
        assert cert.inputs["dnsNames"] == ["friday.test"]
        assert "server_auth" in cert.inputs["allowedUses"]
        [key] = rec.of_type("tls:index/privateKey:PrivateKey")
        assert key.inputs["algorithm"] == "ECDSA"
        init = container(rec, f"{proxy.NAME}-config-init")
        assert init["uploads"][SECRET_SIG] == "1b47061264138c4ac30d75fd1eb44270"
        files = uploads(init)
        assert files[proxy.KEY_PATH]["content"].endswith("generated-friday-proxy-tls-key")
        assert files[proxy.CERT_PATH]["content"].endswith("generated-friday-proxy-tls-cert")

    deploy(check, {"proxyEnabled": True, "proxyTlsSource": "self-signed", "proxyServerName": "friday.test"})


def test_proxy_without_its_certificate_is_refused_before_any_resource() -> None:
    recorder = configure("dev", {"proxyEnabled": True}, {"anthropicApiKey": FAKE_AI_KEY})
    with pytest.raises(SettingsError, match="friday:proxyTlsCert is required"):
        run()
    assert recorder.resources == []
