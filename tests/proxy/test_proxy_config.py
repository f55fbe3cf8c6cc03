"""Proxy settings, the proxy service, and its rendered configs checked by `nginx -t` / `caddy validate`."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.cli import main
from infra.settings import SettingsError
from infra.settings.load import missing_required_secrets
from infra.stack import build_stack, gateway, proxy
from infra.stack.proxy_config import GATEWAY_BODY_LIMIT_BYTES, LOGIN_PATH, caddyfile, nginx_conf
from infra.stack.spec import Reach, Workload
from testbed.paths import REPO_ROOT
from testbed.settings import settings_of
from tests.support.docker_plan import container_of
from tests.support.proxy import check, local_params, proxy_settings, workdir
from tests.support.tls import CertFiles, self_signed

KINDS = ["nginx", "caddy"]


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> CertFiles:
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def folder() -> Any:
    path = workdir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "plain",
    [{}, {"proxyServerName": "friday.example.org", "proxyHttpsHostPort": 8443, "proxyRateLimitBurst": 0}],
    ids=["defaults", "custom"],
)
def test_rendered_config_passes_the_real_checker(
    kind: str, plain: dict[str, Any], cert: CertFiles, folder: Path
) -> None:
    settings = proxy_settings(kind, **plain)
    result = check(kind, local_params(settings, cert, 18789, folder), folder)
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    expected = "test is successful" if kind == "nginx" else "Valid configuration"
    assert expected in output
    # Clean, not merely accepted: no nginx warning (a `user` directive, a deprecated `http2`...), and a
    # Caddyfile laid out the way `caddy fmt` would write it.
    assert "[warn]" not in output
    assert "not formatted" not in output


@pytest.mark.parametrize("kind", KINDS)
def test_checker_refuses_a_missing_certificate(kind: str, cert: CertFiles, folder: Path) -> None:
    # The check above means something: the same tool fails on a config it cannot load.
    params = local_params(proxy_settings(kind), cert, 18789, folder)
    broken = type(params)(**{**params.__dict__, "cert_path": str(folder / "no-such-cert.pem")})
    result = check(kind, broken, folder)
    assert result.returncode != 0
    assert "no-such-cert.pem" in result.stdout + result.stderr


def test_container_config_listens_where_the_service_publishes() -> None:
    for kind in KINDS:
        settings = proxy_settings(kind, proxyHttpHostPort=8081, proxyHttpsHostPort=8444)
        service = build_stack(settings).service(proxy.NAME)
        [config] = service.files
        text = config.content
        assert {p.number for p in service.ports} == {proxy.HTTP_PORT, proxy.HTTPS_PORT}
        assert {p.reach for p in service.ports} == {Reach.PUBLIC}
        published = container_of(settings, proxy.NAME).ports
        assert {(p.external, p.ip) for p in published} == {(8081, "127.0.0.1"), (8444, "127.0.0.1")}
        assert str(proxy.HTTPS_PORT) in text and str(proxy.HTTP_PORT) in text
        assert "https://localhost:8444" in text, "the redirect names the published port"
        assert proxy.CERT_PATH in text and proxy.KEY_PATH in text
        assert {f.path for f in service.secret_files} == {proxy.CERT_PATH, proxy.KEY_PATH}
        assert f"{gateway.NAME}:{settings.gateway_port}" in text
        assert str(GATEWAY_BODY_LIMIT_BYTES) in text


def test_nginx_rate_limit_follows_the_settings() -> None:
    on = proxy.config_text(proxy_settings("nginx", proxyRateLimitPerSecond=7, proxyRateLimitBurst=3))
    assert "rate=7r/s" in on and "burst=3 nodelay" in on and "limit_req_status 429" in on
    off = proxy.config_text(proxy_settings("nginx", proxyRateLimitPerSecond=0, proxyLoginRateLimitPerMinute=0))
    assert "limit_req" not in off


def test_nginx_limits_logins_per_client_in_the_login_location_only() -> None:
    text = proxy.config_text(proxy_settings("nginx", proxyLoginRateLimitPerMinute=3, proxyLoginRateLimitBurst=4))
    assert "limit_req_zone $binary_remote_addr zone=friday_login:10m rate=3r/m;" in text
    login = text[text.index(f"location = {LOGIN_PATH} {{") :]
    login = login[: login.index("}")]
    # Both limits in the login location (a location with limit_req of its own inherits none).
    assert "limit_req zone=friday_login burst=4 nodelay;" in login and "zone=friday_per_client" in login
    assert "proxy_pass http://friday_gateway;" in login
    assert text.count("zone=friday_login burst") == 1
    only_login = proxy.config_text(proxy_settings("nginx", proxyRateLimitPerSecond=0))
    assert "limit_req_status 429;" in only_login and "friday_per_client" not in only_login


def test_the_allowlist_is_validated_and_rendered_for_both_proxies() -> None:
    allow = "203.0.113.0/24, 2001:db8::/32,192.0.2.7"
    nginx = proxy.config_text(proxy_settings("nginx", proxySourceAllowlist=allow))
    assert "allow 203.0.113.0/24;\n" in nginx and "allow 2001:db8::/32;" in nginx and "allow 192.0.2.7;" in nginx
    assert nginx.index("allow 192.0.2.7;") < nginx.index("deny all;", nginx.index("listen 8443"))
    caddy = proxy.config_text(proxy_settings("caddy", proxySourceAllowlist=allow))
    assert "@outside not remote_ip 203.0.113.0/24 2001:db8::/32 192.0.2.7" in caddy and "respond @outside 403" in caddy
    open_nginx = proxy.config_text(proxy_settings("nginx"))
    assert "deny all;" not in open_nginx.split("listen 8443")[1]
    assert "remote_ip" not in proxy.config_text(proxy_settings("caddy")).split("https://")[1].split("http://")[0]
    for bad in ("10.0.0.1/8", "example.org", "10.0.0.0/33"):
        with pytest.raises(SettingsError, match=rf"friday:proxySourceAllowlist = '{re.escape(bad)}'"):
            proxy_settings("nginx", proxySourceAllowlist=bad)


def test_caddy_with_a_login_limit_is_refused_naming_the_keys() -> None:
    with pytest.raises(SettingsError, match=r"proxyKind = 'caddy' with proxyLoginRateLimitPerMinute = 1") as err:
        settings_of({"proxyEnabled": True, "proxyKind": "caddy", "proxyRateLimitPerSecond": 0}, stack="dev")
    assert "proxySourceAllowlist" in str(err.value) and "proxyKind = 'nginx'" in str(err.value)


def test_caddy_with_a_rate_limit_is_refused_naming_the_keys() -> None:
    with pytest.raises(SettingsError, match=r"proxyKind = 'caddy' with proxyRateLimitPerSecond = 10") as err:
        settings_of({"proxyEnabled": True, "proxyKind": "caddy"}, stack="dev")
    assert "proxyRateLimitPerSecond = 0" in str(err.value)
    assert "no rate limiting" in caddyfile(proxy.params(proxy_settings("caddy"))).lower()


def test_self_signed_is_refused_on_prod_and_ports_must_differ() -> None:
    prod = {"environment": "prod", "proxyEnabled": True, "proxyTlsSource": "self-signed"}
    with pytest.raises(SettingsError, match="proxyTlsSource = 'self-signed' is refused on environment 'prod'"):
        settings_of(prod, stack="prod")
    with pytest.raises(SettingsError, match="are both 8443"):
        settings_of({"proxyEnabled": True, "proxyHttpHostPort": 8443, "proxyHttpsHostPort": 8443}, stack="dev")
    with pytest.raises(SettingsError, match="friday:proxyKind = 'haproxy'"):
        settings_of({"proxyKind": "haproxy"}, stack="dev")


def test_tls_secrets_are_required_unless_self_signed() -> None:
    missing = " ".join(missing_required_secrets(proxy_settings("nginx")))
    assert "friday:proxyTlsCert is required" in missing and "friday:proxyTlsKey is required" in missing
    assert "proxyTls" not in " ".join(missing_required_secrets(proxy_settings("nginx", proxyTlsSource="self-signed")))
    assert "proxyTls" not in " ".join(missing_required_secrets(settings_of({}, stack="dev")))


def test_proxy_service_is_hardened_and_pinned() -> None:
    for kind, caps in (("nginx", ()), ("caddy", ("NET_BIND_SERVICE",))):
        settings = proxy_settings(kind)
        spec = build_stack(settings)
        service = spec.service(proxy.NAME)
        docker = container_of(settings, proxy.NAME)
        assert docker.user == "101:101"
        assert service.read_only_root and "/tmp" in docker.tmpfs
        assert service.capabilities_add == caps
        assert service.image.tag not in ("", "latest")
        assert service.resources.limits.memory_mb > 0 and service.resources.limits.cpu_millicores > 0
        assert docker.healthcheck.tests[-1].endswith("/proxy-health")
        assert service.workload is Workload.STATELESS
        assert docker.stop_signal == ("SIGQUIT" if kind == "nginx" else "SIGTERM")
        assert service.depends_on == (gateway.NAME,)
        assert container_of(settings, gateway.NAME).ports == (), "the gateway is reached through the proxy only"
        assert [s.name for s in spec.services].index(gateway.NAME) < [s.name for s in spec.services].index(proxy.NAME)
    assert proxy.NAME not in [s.name for s in build_stack(settings_of({}, stack="dev")).services]


def test_render_writes_the_proxy_config_and_placeholders(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    doc = yaml.safe_load((REPO_ROOT / "Pulumi.dev.yaml").read_text())
    doc["config"].update({"friday:proxyEnabled": True, "friday:proxyTlsCert": {"secure": "v1:CIPHER-cert-91b2"}})
    (root / "Pulumi.dev.yaml").write_text(yaml.safe_dump(doc))
    out = tmp_path / "out"
    assert main(["--root", str(root), "render", "--stack", "dev", "--out", str(out)]) == 0
    conf = out / "files/proxy/etc/friday-proxy/nginx.conf"
    assert "ssl_certificate /etc/friday-proxy/tls/cert.pem;" in conf.read_text()
    service = json.loads((out / "services/proxy.json").read_text())
    assert {f["content"] for f in service["secret_files"]} == {"<secret:proxyTlsCert>", "<secret:proxyTlsKey>"}
    assert all("CIPHER-cert" not in p.read_text() for p in out.rglob("*") if p.is_file())


def test_both_configs_refuse_metrics_and_set_the_security_headers() -> None:
    params = proxy.params(proxy_settings("nginx"))
    nginx, caddy = nginx_conf(params), caddyfile(params)
    assert "location = /metrics { return 404; }" in nginx
    assert "@refused path /metrics /metrics/*" in caddy and "respond @refused 404" in caddy
    for text in (nginx, caddy):
        for header in ("Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"):
            assert header in text
