"""Issue 16's probes on Kubernetes: the blackbox exporter's pod, its probe-auth sidecar, the
Probes and the NetworkPolicies that let Prometheus reach the exporter and the exporter the gateway."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from infra.metrics.probes import PROBE_HEALTH, PROBE_WS_UPGRADE, SLO_AVAILABILITY, SLO_LABEL
from infra.settings import Settings
from infra.settings.groups import label_pairs
from infra.stack import blackbox, probe_auth
from infra.targets.kubernetes_map import gateway_objects, network, probes
from infra.targets.kubernetes_map.meta import selector
from tests.support.kubernetes import Manifest, crd_problems, variant_settings


def _named(objects: list[Manifest], kind: str, component: str) -> Manifest:
    [obj] = [
        o for o in objects if o["kind"] == kind and o["metadata"]["labels"].get("app.kubernetes.io/name") == component
    ]
    return obj


def test_the_exporter_runs_restricted_with_probes_and_limits(objects: list[Manifest], settings: Settings) -> None:
    pod = _named(objects, "Deployment", probes.COMPONENT)["spec"]["template"]["spec"]
    names = [c["name"] for c in pod["containers"]]
    with_key = blackbox.runs_websocket_probe(settings)
    assert names == ([probes.COMPONENT, probe_auth.NAME] if with_key else [probes.COMPONENT])
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    for c in pod["containers"]:
        assert c["securityContext"]["readOnlyRootFilesystem"] is True
        assert c["readinessProbe"] and c["livenessProbe"]
        assert c["resources"]["requests"] and c["resources"]["limits"]
    exporter = pod["containers"][0]
    assert exporter["image"] == f"{settings.blackbox_image}:{settings.blackbox_tag}"
    assert exporter["ports"] == [{"name": "http", "containerPort": blackbox.PORT, "protocol": "TCP"}]
    svc = _named(objects, "Service", probes.COMPONENT)
    assert svc["spec"]["selector"] == selector(settings, probes.COMPONENT)


def test_the_probes_are_probe_resources_prometheus_selects(objects: list[Manifest], settings: Settings) -> None:
    found = {o["spec"]["jobName"]: o for o in objects if o["kind"] == "Probe"}
    expected = {f"probe-{PROBE_HEALTH}"} | (
        {f"probe-{PROBE_WS_UPGRADE}"} if blackbox.runs_websocket_probe(settings) else set()
    )
    assert set(found) == expected
    for probe in found.values():
        assert crd_problems(probe) == []
        assert label_pairs(settings.kubernetes_prometheus_selector).items() <= probe["metadata"]["labels"].items()
        assert probe["metadata"]["namespace"] == settings.kubernetes_namespace
        assert probe["spec"]["prober"]["url"] == probes.prober_address(settings)
        target_labels = probe["spec"]["targets"]["staticConfig"]["labels"]
        # The namespaced rules select the probes' series by namespace; dashboards by environment.
        assert target_labels["namespace"] == settings.kubernetes_namespace
        assert target_labels["environment"] == settings.environment
    health = found[f"probe-{PROBE_HEALTH}"]
    assert health["spec"]["targets"]["staticConfig"]["labels"][SLO_LABEL] == SLO_AVAILABILITY
    assert health["spec"]["targets"]["staticConfig"]["static"] == [f"{gateway_objects.in_cluster_url(settings)}/health"]


def test_a_probe_with_an_unknown_field_is_refused(objects: list[Manifest]) -> None:
    probe = next(o for o in objects if o["kind"] == "Probe")
    broken = yaml.safe_load(yaml.safe_dump(probe))
    broken["spec"]["targets"]["staticConfig"]["statics"] = broken["spec"]["targets"]["staticConfig"].pop("static")
    assert crd_problems(broken)


def test_network_policies_admit_prometheus_to_the_exporter_and_the_exporter_to_the_gateway(
    settings: Settings,
) -> None:
    policy = network.blackbox(settings)
    [ingress] = policy["spec"]["ingress"]
    assert ingress["ports"] == [{"protocol": "TCP", "port": probes.HTTP_PORT_NAME}]
    assert ingress["from"][0]["podSelector"] == {"matchLabels": network.PROMETHEUS_POD_LABELS}
    to_gateway = [r for r in policy["spec"]["egress"] if "to" in r]
    assert to_gateway == [
        {
            "to": [{"podSelector": {"matchLabels": selector(settings, gateway_objects.COMPONENT)}}],
            "ports": [{"protocol": "TCP", "port": gateway_objects.HTTP_PORT_NAME}],
        }
    ]
    gateway_in = network.gateway(settings)["spec"]["ingress"]
    assert {
        "from": [{"podSelector": {"matchLabels": selector(settings, probes.COMPONENT)}}],
        "ports": [{"protocol": "TCP", "port": gateway_objects.HTTP_PORT_NAME}],
    } in gateway_in


def test_the_websocket_probe_goes_through_probe_auth_on_the_pod_loopback() -> None:
    settings = variant_settings("full")
    caddyfile = probes.probe_auth_caddyfile(settings)
    assert f"\tbind {probes.PROBE_AUTH_BIND}\n" in caddyfile
    assert f"header_up X-API-Key {{env.{probe_auth.KEY_ENV}}}" in caddyfile
    assert (
        f"{gateway_objects.service_name(settings)}.{settings.kubernetes_namespace}.svc:{settings.gateway_port}"
        in caddyfile
    )
    [ws] = [p for p in probes.probes(settings) if p.name == PROBE_WS_UPGRADE]
    assert ws.target == f"127.0.0.1:{probe_auth.PORT}"
    # No key in blackbox.yml; without metricsToken, neither the sidecar nor the probe.
    assert "X-API-Key" not in probes.config_text(settings)
    assert [p.name for p in probes.probes(variant_settings("minimal"))] == [PROBE_HEALTH]


def _run(argv: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path)}
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env, check=False)


def test_probe_auth_caddyfile_passes_caddy_validate(tmp_path: Path) -> None:
    caddy = shutil.which("caddy")
    assert caddy, "caddy is installed by scripts/bootstrap.sh"
    path = tmp_path / "Caddyfile"
    path.write_text(probes.probe_auth_caddyfile(variant_settings("full")), encoding="utf-8")
    done = _run([caddy, "validate", "--adapter", "caddyfile", "--config", str(path)], tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    path.write_text(path.read_text().replace("reverse_proxy", "reverse_proxi"), encoding="utf-8")
    assert _run([caddy, "validate", "--adapter", "caddyfile", "--config", str(path)], tmp_path).returncode != 0


@pytest.mark.parametrize("variant", ["minimal", "full"])
def test_the_exporter_config_passes_its_own_check(variant: str, tmp_path: Path) -> None:
    exporter = shutil.which("prometheus-blackbox-exporter")
    assert exporter, "Debian's prometheus-blackbox-exporter is installed by scripts/bootstrap.sh"
    path = tmp_path / "blackbox.yml"
    path.write_text(probes.config_text(variant_settings(variant)), encoding="utf-8")
    done = _run([exporter, "--config.check", f"--config.file={path}"], tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    # An unknown field: the exporter refuses the file (it unmarshals strictly).
    path.write_text(path.read_text().replace("preferred_ip_protocol", "preferred_ip_protocoll"), encoding="utf-8")
    assert _run([exporter, "--config.check", f"--config.file={path}"], tmp_path).returncode != 0
