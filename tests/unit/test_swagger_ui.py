"""Swagger UI: built only when asked, refused on prod unless forced, serving docs/openapi.yaml itself."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from infra.settings import SettingsError
from infra.stack import build_stack, swagger_ui
from infra.stack.nginx_runtime import NginxRuntime
from infra.stack.spec import Service
from testbed.paths import REPO_ROOT
from testbed.processes import free_port, running
from testbed.settings import settings_of
from tests.support.docker_plan import container_of
from tests.support.proxy import drop_root, tool, workdir


def service(**plain: Any) -> Service:
    return build_stack(settings_of({"swaggerUiEnabled": True, **plain}, stack="dev")).service(swagger_ui.NAME)


def test_not_built_unless_enabled() -> None:
    names = [s.name for s in build_stack(settings_of({}, stack="dev")).services]
    assert swagger_ui.NAME not in names


def test_prod_refuses_it_unless_forced() -> None:
    with pytest.raises(SettingsError, match="swaggerUiEnabled = true is refused on environment 'prod'"):
        settings_of({"environment": "prod", "swaggerUiEnabled": True}, stack="prod")
    forced = settings_of({"environment": "prod", "swaggerUiEnabled": True, "force": "swagger-ui"}, stack="prod")
    assert swagger_ui.NAME in [s.name for s in build_stack(forced).services]


def test_the_spec_delivered_is_docs_openapi_yaml() -> None:
    files = {f.path: f.content for f in service().files}
    spec = files[f"{swagger_ui.CONFIG_DIR}/{swagger_ui.SPEC_FILE}"]
    assert spec == (REPO_ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8")
    assert yaml.safe_load(spec)["openapi"].startswith("3.1")
    initializer = files[f"{swagger_ui.CONFIG_DIR}/{swagger_ui.INITIALIZER_FILE}"]
    assert '"url": "./openapi.yaml"' in initializer
    assert "://" not in initializer, "the page loads nothing from the internet"


def test_container_is_non_root_read_only_loopback_pinned() -> None:
    s = service(swaggerUiHostPort=18999, swaggerUiTag="v5.17.14")
    docker = container_of(settings_of({"swaggerUiEnabled": True, "swaggerUiHostPort": 18999}, stack="dev"), s.name)
    assert docker.user == "101:101" and s.read_only_root and "/tmp" in docker.tmpfs
    assert [(p.ip, p.external, p.internal) for p in docker.ports] == [("127.0.0.1", 18999, 8080)]
    assert s.image.ref == "swaggerapi/swagger-ui:v5.17.14"
    assert s.command[0] == "/usr/sbin/nginx", "an absolute path skips the image's root-only entrypoint scripts"
    assert s.capabilities_add == ()
    assert docker.healthcheck.tests[-1] == "http://127.0.0.1:8080/openapi.yaml"
    assert s.resources.limits.memory_mb <= 128


def test_latest_tag_is_refused() -> None:
    with pytest.raises(SettingsError, match="friday:swaggerUiTag = 'latest'"):
        service(swaggerUiTag="latest")


@pytest.fixture
def folder() -> Iterator[Path]:
    path = workdir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


def local_conf(folder: Path, port: int) -> Path:
    """The service's nginx.conf with local places, plus the files the service delivers."""
    config_dir, html = folder / "config", folder / "html"
    config_dir.mkdir()
    html.mkdir()
    (html / "index.html").write_text("<html>stand-in for the image's Swagger UI page</html>\n")
    for f in service().files:
        (config_dir / Path(f.path).name).write_text(f.content, encoding="utf-8")
    runtime = NginxRuntime(str(folder), str(folder / "error.log"), str(folder / "access.log"))
    conf = config_dir / swagger_ui.NGINX_CONF
    conf.write_text(swagger_ui.nginx_conf(f"127.0.0.1:{port}", str(config_dir), str(html), runtime))
    return conf


def test_nginx_conf_passes_nginx_t(folder: Path) -> None:
    conf = local_conf(folder, free_port())
    nginx = tool("nginx")
    result = subprocess.run(  # noqa: PLW1510 - the return code is the result
        [nginx, "-t", "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(conf)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.live
def test_serves_the_spec_and_the_page(folder: Path) -> None:
    port = free_port()
    conf = local_conf(folder, port)
    prefix = drop_root(folder)  # the image runs nginx as uid 101: run it without root here too
    args = [*prefix, tool("nginx"), "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(conf)]
    args += ["-g", "daemon off;"]
    with running(args, folder / "process.log", [port]):
        s = requests.Session()
        s.trust_env = False
        spec = s.get(f"http://127.0.0.1:{port}/openapi.yaml", timeout=10)
        page = s.get(f"http://127.0.0.1:{port}/", timeout=10)
        init = s.get(f"http://127.0.0.1:{port}/swagger-initializer.js", timeout=10)
    assert spec.status_code == 200
    assert spec.text == (REPO_ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8")
    assert spec.headers["Content-Type"].startswith("application/yaml")
    assert spec.headers["X-Content-Type-Options"] == "nosniff"
    assert "stand-in" in page.text
    assert init.status_code == 200 and "SwaggerUIBundle" in init.text


def test_render_writes_the_spec_the_container_gets(tmp_path: Path) -> None:
    from infra.cli import main

    root = tmp_path / "repo"
    root.mkdir()
    doc = yaml.safe_load((REPO_ROOT / "Pulumi.dev.yaml").read_text())
    doc["config"]["friday:swaggerUiEnabled"] = True
    (root / "Pulumi.dev.yaml").write_text(yaml.safe_dump(doc))
    out = tmp_path / "out"
    assert main(["--root", str(root), "render", "--stack", "dev", "--out", str(out)]) == 0
    rendered = out / "files/swagger-ui/etc/friday-swagger-ui/openapi.yaml"
    assert rendered.read_text() == (REPO_ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8")
    assert (out / "services/swagger-ui.json").exists()
