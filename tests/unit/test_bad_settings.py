"""The whole bad-settings table through `check` and through the path `pulumi up` takes.

Both must refuse every case, with the same lines, each naming the key, the value and what is
allowed; and no traceback. The engine's strings alone must refuse every case they can show.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from infra.cli import main
from infra.preflight import EngineConfig, preflight
from infra.settings import SettingsError, validate
from infra.settings.load import from_config_env
from infra.stack import build_stack
from testbed.paths import REPO_ROOT
from tests.support.bad_settings import BAD, Bad, engine_strings


def project(tmp_path: Path, text: str, stack: str = "x") -> Path:
    shutil.copy(REPO_ROOT / "Pulumi.yaml", tmp_path)
    (tmp_path / f"Pulumi.{stack}.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def check(root: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    code = main(["--root", str(root), "check", "--stack", "x", *extra])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("case", BAD, ids=[c.name for c in BAD])
def test_check_refuses_it_naming_what_is_wrong(case: Bad, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = check(project(tmp_path, case.text()), capsys)
    assert code == 2, f"accepted: {out}{err}"
    assert "Traceback" not in err
    for part in case.expected:
        assert part in err, f"{part!r} not in {err}"
    assert "settings valid" not in out + err


@pytest.mark.parametrize("case", BAD, ids=[c.name for c in BAD])
def test_the_pulumi_up_path_refuses_it_the_same_way(case: Bad, tmp_path: Path) -> None:
    root = project(tmp_path, case.text())
    with pytest.raises(SettingsError) as from_check:
        preflight("x", root)
    values = {k: v for k, v in engine_strings(case.text()).items()}
    with pytest.raises(SettingsError) as from_engine:
        preflight("x", root, EngineConfig(values, frozenset()))
    assert from_engine.value.problems == from_check.value.problems
    if case.engine_sees:
        # The engine's strings alone, as the program receives them, are refused too.
        with pytest.raises(SettingsError) as alone:
            build_stack(validate(from_config_env("x", values, set())))
        # The engine cannot say whether a value was quoted: compare without quotes.
        engine_message = str(alone.value).replace("'", "")
        for part in case.expected:
            if "line " not in part:
                assert part.replace("'", "") in engine_message, f"{part!r} not in {alone.value}"


GOOD = [
    "  friday:gatewayTag: '12.1'\n",
    '  friday:gatewayTag: "1.10"\n',
    "  friday:swaggerUiEnabled: True\n",
    "  friday:costBudgetUsdDaily: 40\n",
    "  friday:costBudgetUsdDaily: 12.5\n",
    "  friday:hostLogDir: /var/log/friday-gw\n",
    "  friday:scrapeInterval: 2m30s\n",
    "  friday:scrapeInterval: 5m\n  friday:force: long-scrape-interval\n",
    "  friday:environment: staging\n  friday:swaggerUiEnabled: true\n  friday:force: swagger-ui, anonymous-grafana\n",
    "  friday:grafanaAnonymousEnabled: true\n  friday:grafanaBindAddress: ::1\n",
    "  docker:host: unix:///var/run/docker.sock\n  friday:target: docker\n",
    # Near misses of the refusals above: a folder of its own below a system folder, other ports or
    # addresses, forced exposure, a k3s ingress controller in kube-system, new enough images.
    "  friday:hostDataDir: /srv/friday\n  friday:hostLogDir: /var/log/gw\n  friday:backupHostDir: /opt/friday/b\n",
    "  friday:gatewayPort: 9100\n  friday:gatewayBindAddress: 10.0.0.5\n",
    "  friday:gatewayPort: 9480\n",  # Docker: the gateway and metrics-auth are two containers
    "  friday:hostLokiUrl: http://10.0.0.9:18789\n",
    "  friday:environment: prod\n  friday:monitoringBindAddress: 0.0.0.0\n"
    "  friday:force: monitoring-on-every-address\n",
    '  friday:environment: prod\n  friday:gatewayBindAddress: "::"\n  friday:force: gateway-on-every-address\n',
    "  friday:gatewayBindAddress: 0.0.0.0\n  friday:monitoringBindAddress: 0.0.0.0\n",
    "  friday:kubernetesIngressNamespace: kube-system\n",
    '  friday:backupTag: "3.11-slim"\n  friday:lokiTag: "3.0.0"\n  friday:alloyTag: v1.0.0\n',
    '  friday:backupTag: "3"\n  friday:metricsAuthTag: "2.6"\n',
    "  friday:backupImage: ghcr.io/me/backup\n  friday:backupTag: 3.9-custom\n",
]


@pytest.mark.parametrize("config", GOOD)
def test_good_values_pass_both_paths_with_the_same_result(config: str, tmp_path: Path) -> None:
    root = project(tmp_path, "config:\n" + config)
    from_file = preflight("x", root, this_machine=True).settings  # as `check --deployable`
    from_engine = preflight("x", root, EngineConfig(engine_strings("config:\n" + config), frozenset())).settings
    assert from_file == from_engine


def _go_text(value: object) -> str:
    """A YAML default as Pulumi hands it to the program: Go's %v of the decoded value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def test_the_project_file_defaults_pass_the_engine_path_unchanged() -> None:
    """Pulumi applies Pulumi.yaml's defaults to every stack: as strings they give the same settings."""
    project = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())
    values = {f"friday:{k}": _go_text(v["default"]) for k, v in project["config"].items() if "default" in v}
    assert values["friday:costBudgetUsdDaily"] == "25"
    assert validate(from_config_env("x", values, set())) == validate(from_config_env("x", {}, set()))
