"""`render` writes Grafana's provisioning and dashboards, the admin password only as a placeholder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from infra.cli import main
from infra.stack import grafana
from testbed.paths import REPO_ROOT

FILES = Path("files/grafana") / grafana.CONFIG_DIR.lstrip("/")


@pytest.mark.parametrize(("stack", "anonymous"), [("dev", "true"), ("prod", "false")])
def test_render_writes_grafana_provisioning_and_dashboards(stack: str, anonymous: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["render", "--stack", stack, "--out", str(out)]) == 0
    assert "grafana" in json.loads((out / "stack.json").read_text())["services"]
    rendered = out / FILES
    sources = yaml.safe_load((rendered / "provisioning/datasources/friday.yaml").read_text())
    assert {d["uid"] for d in sources["datasources"]} == {"friday-prometheus", "friday-loki", "friday-alertmanager"}
    assert yaml.safe_load((rendered / "provisioning/dashboards/friday.yaml").read_text())["providers"]
    for committed in (REPO_ROOT / "dashboards").glob("*.json"):
        assert (rendered / "dashboards" / committed.name).read_text() == committed.read_text()
    service = json.loads((out / "services/grafana.json").read_text())
    assert service["secret_files"] == [
        {"path": grafana.ADMIN_PASSWORD_PATH, "mode": "0400", "content": "<secret:grafanaAdminPassword>"},
        {"path": grafana.SECRET_KEY_PATH, "mode": "0400", "content": "<secret:grafanaSecretKey>"},
        {"path": grafana.ALERTMANAGER_PASSWORD_PATH, "mode": "0400", "content": "<secret:alertmanagerPassword>"},
    ]
    # The Alertmanager datasource reads that password from its file; the provisioning holds no secret.
    [am] = [d for d in sources["datasources"] if d["uid"] == "friday-alertmanager"]
    assert (am["basicAuth"], am["basicAuthUser"]) == (True, "friday")
    assert am["secureJsonData"] == {"basicAuthPassword": f"$__file{{{grafana.ALERTMANAGER_PASSWORD_PATH}}}"}
    assert service["env"]["GF_AUTH_ANONYMOUS_ENABLED"] == anonymous
    assert (service["uid"], service["gid"]) == (472, 0)
    assert not (rendered / "secrets").exists(), "the password file is never rendered"
