"""Grafana as data: pinned, non-root, provisioned from uploads, password from a secret file."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from infra.dashboards.datasources import DATASOURCES
from infra.dashboards.files import provisioned
from infra.settings import SettingsError
from infra.settings.secrets import SECRETS_BY_KEY
from infra.stack import build_stack, grafana, upstreams
from infra.stack.spec import Reach, SecretFile, SecretRef, Service
from testbed.paths import REPO_ROOT
from testbed.settings import settings_of
from tests.support.docker_plan import container_of


def service(stack: str = "test", **plain: Any) -> Service:
    return build_stack(settings_of(plain, stack=stack)).service(grafana.NAME)


def file_text(svc: Service, path: str) -> str:
    [found] = [f for f in svc.files if f.path == path]
    return found.content


def test_image_is_pinned_grafana_12() -> None:
    image = service().image
    assert image.repository == "grafana/grafana-oss"
    major, minor, patch = image.tag.split(".")
    assert major == "12" and minor.isdigit() and patch.isdigit()
    assert service(grafanaTag="12.2.0").image.ref == "grafana/grafana-oss:12.2.0"


def test_latest_tag_is_refused() -> None:
    with pytest.raises(SettingsError, match="friday:grafanaTag = 'latest'"):
        service(grafanaTag="latest")


def test_runs_as_the_image_user_never_root() -> None:
    svc = service()
    assert (svc.uid, svc.gid) == (472, 0)
    assert container_of(settings_of({}, stack="t"), grafana.NAME).user == "472:0"
    assert svc.read_only_root and [s.path for s in svc.scratch] == ["/tmp"]
    [volume] = [v for v in build_stack(settings_of({}, stack="t")).volumes if v.name == grafana.DATA_VOLUME]
    assert (volume.owner_uid, volume.owner_gid) == (472, 0)
    assert [m.path for m in svc.mounts] == [grafana.DATA_DIR]


def test_limits_healthcheck_and_loopback_port() -> None:
    svc = service(grafanaMemoryMb=768, grafanaCpuMillicores=250)
    limits = svc.resources.limits
    assert (limits.memory_mb, limits.cpu_millicores) == (768, 250)
    docker = container_of(settings_of({}, stack="t"), grafana.NAME)
    assert docker.healthcheck.tests[-1] == "http://127.0.0.1:3000/api/health"
    [port] = docker.ports
    assert (port.ip, port.external, port.internal) == ("127.0.0.1", 3000, 3000)
    assert svc.port(grafana.HTTP).reach is Reach.OPERATOR
    [opened] = service(grafanaBindAddress="0.0.0.0", grafanaHostPort=3300).ports
    assert opened.host is not None and (opened.host.address, opened.host.port) == ("0.0.0.0", 3300)


def test_host_port_clash_with_the_gateway_is_a_settings_error() -> None:
    clash = (
        r"host port 18789 on the Docker host is wanted by both gateway/http on 127\.0\.0\.1 and grafana/http on "
        r"127\.0\.0\.1 \(set by friday:gatewayHostPort = 18789 and friday:grafanaHostPort = 18789\)"
    )
    with pytest.raises(SettingsError, match=clash):
        service(grafanaHostPort=18789)


def test_provisioning_is_uploaded_into_the_config_dir() -> None:
    svc = service()
    assert svc.env["GF_PATHS_PROVISIONING"] == grafana.PROVISIONING_DIR
    assert grafana.PROVISIONING_DIR.startswith(grafana.CONFIG_DIR + "/")
    assert svc.config_dir == grafana.CONFIG_DIR
    for f in svc.files:
        assert f.path.startswith(grafana.CONFIG_DIR + "/") and f.mode == "0444"


def test_datasources_have_the_fixed_uids_and_upstream_urls() -> None:
    doc = yaml.safe_load(file_text(service(), grafana.DATASOURCES_PATH))
    assert doc["apiVersion"] == 1
    by_uid = {d["uid"]: d for d in doc["datasources"]}
    assert set(by_uid) == {d.uid for d in DATASOURCES} == {"friday-prometheus", "friday-loki", "friday-alertmanager"}
    assert by_uid["friday-prometheus"]["url"] == upstreams.PROMETHEUS.url == "http://prometheus:9090"
    assert by_uid["friday-alertmanager"]["url"] == "http://alertmanager:9093"
    assert by_uid["friday-loki"]["url"] == "http://loki:3100"
    assert by_uid["friday-alertmanager"]["jsonData"]["implementation"] == "prometheus"
    assert [d["uid"] for d in doc["datasources"] if d["isDefault"]] == ["friday-prometheus"]
    assert all(d["editable"] is False and d["access"] == "proxy" for d in doc["datasources"])


def test_dashboards_are_provisioned_as_the_committed_json() -> None:
    svc = service()
    providers = yaml.safe_load(file_text(svc, grafana.DASHBOARD_PROVIDERS_PATH))
    [provider] = providers["providers"]
    assert provider["type"] == "file" and provider["options"]["path"] == grafana.DASHBOARDS_DIR
    assert provider["allowUiUpdates"] is False and provider["disableDeletion"] is True
    uploaded = {f.path.rsplit("/", 1)[1]: f.content for f in svc.files if f.path.startswith(grafana.DASHBOARDS_DIR)}
    committed = {p.name: p.read_text() for p in (REPO_ROOT / "dashboards").glob("*.json")}
    assert uploaded == committed == provisioned()
    assert "__inputs" not in json.loads(uploaded["gateway.json"])
    home = svc.env["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert isinstance(home, str) and home.removeprefix(grafana.DASHBOARDS_DIR + "/") in uploaded


def test_admin_password_comes_from_a_secret_file() -> None:
    svc = service()
    assert svc.secret_files == (
        SecretFile(grafana.ADMIN_PASSWORD_PATH, SecretRef("grafanaAdminPassword")),
        SecretFile(grafana.SECRET_KEY_PATH, SecretRef("grafanaSecretKey")),
        SecretFile(grafana.ALERTMANAGER_PASSWORD_PATH, SecretRef("alertmanagerPassword")),
    )
    assert svc.env["GF_SECURITY_ADMIN_PASSWORD__FILE"] == grafana.ADMIN_PASSWORD_PATH
    # Grafana's own secret_key, not the default published in its source.
    assert svc.env["GF_SECURITY_SECRET_KEY__FILE"] == grafana.SECRET_KEY_PATH
    assert "GF_SECURITY_SECRET_KEY" not in svc.env
    assert SECRETS_BY_KEY["grafanaSecretKey"].generate_length is not None
    assert "GF_SECURITY_ADMIN_PASSWORD" not in svc.env
    assert not any(isinstance(v, SecretRef) for v in svc.env.values())
    spec = SECRETS_BY_KEY["grafanaAdminPassword"]
    assert spec.generate_length is not None and spec.generate_length >= 32


def test_anonymous_access_off_by_default_read_only_when_allowed() -> None:
    assert service().env["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert "GF_AUTH_ANONYMOUS_ORG_ROLE" not in service().env
    env = service(grafanaAnonymousEnabled=True).env
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "true"
    assert env["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"
    assert env["GF_USERS_ALLOW_SIGN_UP"] == "false"


def test_anonymous_access_refused_on_prod_unless_forced() -> None:
    with pytest.raises(SettingsError, match="grafanaAnonymousEnabled = true is refused on environment 'prod'"):
        service(environment="prod", grafanaAnonymousEnabled=True)
    forced = service(environment="prod", grafanaAnonymousEnabled=True, force="anonymous-grafana")
    assert forced.env["GF_AUTH_ANONYMOUS_ENABLED"] == "true"


def test_stack_files_enable_anonymous_only_on_dev() -> None:
    dev = yaml.safe_load((REPO_ROOT / "Pulumi.dev.yaml").read_text())["config"]
    prod = yaml.safe_load((REPO_ROOT / "Pulumi.prod.yaml").read_text())["config"]
    assert dev.get("friday:grafanaAnonymousEnabled") is True
    assert "friday:grafanaAnonymousEnabled" not in prod
