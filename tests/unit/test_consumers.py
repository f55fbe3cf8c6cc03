"""The rendered artefacts' real consumers (infra/consumers.py), as `check --deployable` runs them.

Each test breaks one artefact on purpose and shows its own tool refuses it as a blocker naming the
tool and the file; a tool that is not installed is reported as not run; secret values never show.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from infra import consumers, render
from infra.cli import main
from infra.consumers import ALERTMANAGER_CONFIG, PROMETHEUS_CONFIGS, run_consumers
from infra.settings import Settings
from testbed.paths import REPO_ROOT
from testbed.settings import settings_of
from tests.support.tls import self_signed

TOOLS = ("promtool", "amtool", "systemd-analyze", "nginx", "caddy", "openssl")


def require(*names: str) -> None:
    missing = [n for n in names if consumers.find(n) is None]
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{', '.join(missing)} not installed (scripts/bootstrap.sh dev installs them)")
        pytest.skip(f"{', '.join(missing)} not installed")


def edited(settings: Settings, rel: str, edit: Callable[[str], str]) -> dict[str, str]:
    files = render.artefacts(settings)
    assert rel in files
    changed = edit(files[rel])
    assert changed != files[rel]
    return {**files, rel: changed}


def test_every_installed_consumer_accepts_the_rendered_stack() -> None:
    require("promtool", "amtool", "systemd-analyze")
    settings = settings_of({}, stack="dev")
    report = run_consumers(settings, render.artefacts(settings))
    assert report.refused == [] and report.not_run == []
    assert report.checked == [
        f"promtool on {PROMETHEUS_CONFIGS[0]}: accepted",
        f"promtool on {PROMETHEUS_CONFIGS[1]}: accepted",
        "promtool on the alert and recording rules: accepted",
        f"amtool on {ALERTMANAGER_CONFIG} (receiver URLs not decrypted): accepted",
        "systemd-analyze on the bare-metal systemd units: accepted",
    ]


BROKEN = [
    # (tool, file, edit, words of the tool's refusal)
    (
        "promtool",
        PROMETHEUS_CONFIGS[0],
        lambda t: t.replace("global:\n", "global:\n  scrape_timeout: 1m1m\n", 1),
        'not a valid duration string: "1m1m"',
    ),
    (
        "promtool",
        "files/prometheus/etc/prometheus/rules/gateway.yml",
        lambda t: t.replace("expr: ", "expr: sum(( ", 1),
        "parse error",
    ),
    (
        "amtool",
        ALERTMANAGER_CONFIG,
        lambda t: t.replace("group_interval: 5m", "group_interval: 0s", 1),
        "group_interval cannot be zero",
    ),
    (
        "systemd-analyze",
        "host/systemd/friday-gateway.service",
        lambda t: t.replace("[Service]\n", "[Service]\nProtectKernelEverything=yes\n", 1),
        "Unknown key 'ProtectKernelEverything'",
    ),
]


@pytest.mark.parametrize(("tool", "rel", "edit", "words"), BROKEN, ids=[b[1].rsplit("/", 1)[-1] for b in BROKEN])
def test_a_consumer_refusing_a_broken_artefact_is_a_blocker(
    tool: str, rel: str, edit: Callable[[str], str], words: str
) -> None:
    require(tool)
    settings = settings_of({}, stack="dev")
    report = run_consumers(settings, edited(settings, rel, edit))
    refusals = [r for r in report.refused if r.startswith(f"{tool} refuses")]
    assert refusals, report
    for refusal in refusals:
        assert words in refusal, refusal
        assert "friday-consumers-" not in refusal  # paths shown relative to the rendered folder


def test_a_missing_tool_is_reported_as_not_run() -> None:
    require("promtool")
    settings = settings_of({}, stack="dev")
    report = run_consumers(settings, render.artefacts(settings), which=lambda name: None)
    assert report.checked == [] and report.refused == []
    assert report.not_run == [
        f"promtool is not installed here: not run on {PROMETHEUS_CONFIGS[0]}, {PROMETHEUS_CONFIGS[1]}, "
        "the alert and recording rules",
        f"amtool is not installed here: not run on {ALERTMANAGER_CONFIG} (receiver URLs not decrypted)",
        "systemd-analyze is not installed here: not run on the bare-metal systemd units",
    ]
    only_amtool_missing = run_consumers(
        settings, render.artefacts(settings), which=lambda n: None if n == "amtool" else consumers.find(n)
    )
    assert [line.split(" is not")[0] for line in only_amtool_missing.not_run] == ["amtool"]
    assert not any(c.startswith("amtool") for c in only_amtool_missing.checked)


def test_a_receiver_url_amtool_refuses_is_a_blocker_that_never_shows_the_secret() -> None:
    require("amtool")
    settings = settings_of({"alertReceivers": "webhook"}, frozenset({"alertWebhookUrl"}), stack="dev")
    secret = "ftp://hooks.example.org/T0KEN-very-secret"
    report = run_consumers(settings, render.artefacts(settings), {"alertWebhookUrl": secret})
    [refusal] = report.refused
    assert refusal.startswith(f"amtool refuses {ALERTMANAGER_CONFIG}")
    assert 'unsupported scheme "ftp"' in refusal and "T0KEN" not in refusal
    good = run_consumers(settings, render.artefacts(settings), {"alertWebhookUrl": "https://hooks.example.org/x"})
    assert good.refused == []


@pytest.mark.parametrize("kind", ["nginx", "caddy"])
def test_the_proxy_config_goes_to_its_server_and_the_certificate_to_openssl(kind: str, tmp_path: Path) -> None:
    require(kind, "openssl")
    plain = {"proxyEnabled": True, "proxyKind": kind, "proxyServerName": "localhost"}
    if kind == "caddy":
        plain["proxyRateLimitPerSecond"] = 0
        plain["proxyLoginRateLimitPerMinute"] = 0
    settings = settings_of(plain, frozenset({"proxyTlsCert", "proxyTlsKey"}), stack="dev")
    cert = self_signed(tmp_path)
    values = {"proxyTlsCert": cert.cert.read_text(), "proxyTlsKey": cert.key.read_text()}
    report = run_consumers(settings, render.artefacts(settings), values)
    assert report.refused == []
    assert f"{kind} on the {kind} proxy config: accepted" in report.checked
    assert "openssl on the proxy certificate (proxyTlsCert): still valid: accepted" in report.checked
    assert "openssl on the proxy key (proxyTlsKey): accepted" in report.checked
    # A key that is not PEM: the proxy server and openssl both refuse it.
    broken = run_consumers(settings, render.artefacts(settings), {**values, "proxyTlsKey": "not a key"})
    assert any(r.startswith(f"{kind} refuses the {kind} proxy config") for r in broken.refused), broken.refused
    assert any(r.startswith("openssl refuses the proxy key") for r in broken.refused), broken.refused


def test_check_deployable_says_which_consumers_ran_and_which_were_not_installed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    require("promtool", "amtool", "systemd-analyze")
    shutil.copy(REPO_ROOT / "Pulumi.yaml", tmp_path)
    (tmp_path / "Pulumi.x.yaml").write_text("config:\n  friday:environment: dev\n", encoding="utf-8")
    real = consumers.find
    monkeypatch.setattr(consumers, "find", lambda name: None if name == "amtool" else real(name))
    code = main(["--root", str(tmp_path), "check", "--stack", "x", "--deployable"])
    err = capsys.readouterr().err
    assert code == 1  # the AI key is missing; the consumers still ran
    assert f"checked: promtool on {PROMETHEUS_CONFIGS[0]}: accepted" in err
    assert "checked: systemd-analyze on the bare-metal systemd units: accepted" in err
    assert f"not run: amtool is not installed here: not run on {ALERTMANAGER_CONFIG}" in err
    without = main(["--root", str(tmp_path), "check", "--stack", "x"])
    assert without == 0 and "promtool" not in capsys.readouterr().err  # only --deployable runs them


def test_tools_named_here_are_the_ones_the_module_runs() -> None:
    # TOOLS documents what bootstrap must install for this suite; every one is used by infra/consumers.py.
    source = Path(consumers.__file__).read_text()
    assert all(f'"{tool}"' in source for tool in TOOLS)
