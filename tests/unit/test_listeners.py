"""The listeners infra/stack/listeners.py judges are the ones the targets render, and the backup
tool's minimum Python (infra/settings/hazards.py) is what its code uses."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import yaml

from infra.host import prometheus_files as host_prometheus
from infra.monitoring import endpoints
from infra.render import artefacts
from infra.settings.hazards import BACKUP_MIN_PYTHON
from infra.stack import build_stack, listeners, probe_auth
from testbed.paths import REPO_ROOT
from testbed.settings import settings_of

KUBERNETES = {
    "target": "kubernetes",
    "kubernetesIngressHost": "friday.example.org",
    "kubernetesCertIssuer": "letsencrypt",
    "gatewayPort": 18000,
    "metricsAuthPort": 9500,
}
TOKEN = frozenset({"metricsToken"})


def _deployment(files: dict[str, str], component: str) -> dict[str, Any]:
    for path, text in files.items():
        if path.startswith("kubernetes/") and "-deployment-" in path:
            doc = yaml.safe_load(text)
            if doc["metadata"]["name"].endswith(component):
                return dict(doc)
    raise AssertionError(f"no {component} Deployment rendered")


def _ports(place: listeners.Place) -> set[tuple[str, int]]:
    return {(listener.address, listener.port) for listener in place.listeners}


def test_the_pods_listeners_are_the_rendered_containers() -> None:
    settings = settings_of(KUBERNETES, secrets=TOKEN)
    spec = build_stack(settings)
    files = artefacts(settings)
    gateway_pod = _deployment(files, "-gateway")["spec"]["template"]["spec"]
    rendered = {("0.0.0.0", p["containerPort"]) for c in gateway_pod["containers"] for p in c.get("ports", [])}
    assert rendered == _ports(listeners.gateway_pod(settings, spec)) == {("0.0.0.0", 18000), ("0.0.0.0", 9500)}
    blackbox_pod = _deployment(files, "-blackbox")["spec"]["template"]["spec"]
    exporter = {("0.0.0.0", p["containerPort"]) for c in blackbox_pod["containers"] for p in c.get("ports", [])}
    config = next(t for path, t in files.items() if path.startswith("kubernetes/") and "probe-auth-config" in path)
    caddyfile = yaml.safe_load(config)["data"]["Caddyfile"]
    assert f"http://:{probe_auth.PORT} {{" in caddyfile and f"bind {listeners.PROBE_AUTH_BIND}" in caddyfile
    assert exporter | {(listeners.PROBE_AUTH_BIND, probe_auth.PORT)} == _ports(listeners.blackbox_pod(settings))
    # Docker places are not a Kubernetes stack's: the two containers share no network there.
    assert [p.noun for p in listeners.places(settings, spec)] == ["port", "port", "port"]


def test_the_bare_metal_listeners_are_the_rendered_host_files() -> None:
    settings = settings_of({"gatewayBindAddress": "10.0.0.5", "gatewayPort": 18000}, secrets=TOKEN)
    files = artefacts(settings)
    place = {(lst.owner, lst.address, lst.port) for lst in listeners.bare_metal(settings).listeners}
    gateway_yaml = yaml.safe_load(files["host/gateway/gateway.yaml"])["gateway"]
    assert ("the gateway", gateway_yaml["host"], gateway_yaml["port"]) in place
    caddy = files["host/metrics-auth/Caddyfile"]
    assert f"http://:{settings.metrics_auth_port} {{" in caddy and f"\tbind {listeners.LOOPBACK}\n" in caddy
    assert ("the metrics-auth unit", listeners.LOOPBACK, settings.metrics_auth_port) in place
    node = files[f"host/{host_prometheus.NODE_EXPORTER_DEFAULTS}"]
    assert f"--web.listen-address={listeners.LOOPBACK}:{endpoints.NODE_EXPORTER_PORT}" in node
    assert ("node-exporter", listeners.LOOPBACK, endpoints.NODE_EXPORTER_PORT) in place
    prometheus = yaml.safe_load(files["host/prometheus/prometheus.yml"])
    targets = {t for job in prometheus["scrape_configs"] for s in job["static_configs"] for t in s["targets"]}
    for port in (endpoints.PROMETHEUS_PORT, endpoints.ALERTMANAGER_PORT):
        assert f"127.0.0.1:{port}" in targets
        assert any(p == port and listeners.addresses_clash(a, "127.0.0.1") for _, a, p in place)


def test_addresses_clash_by_the_rules_of_bind() -> None:
    clash = [("127.0.0.1", "127.0.0.1"), ("0.0.0.0", "10.0.0.5"), ("::", "127.0.0.1"), ("::ffff:0.0.0.0", "::1")]
    clash += [("::ffff:127.0.0.1", "127.0.0.1")]
    apart = [("127.0.0.1", "127.0.0.2"), ("10.0.0.5", "::1"), ("::1", "127.0.0.1")]
    assert all(listeners.addresses_clash(a, b) and listeners.addresses_clash(b, a) for a, b in clash)
    assert not any(listeners.addresses_clash(a, b) for a, b in apart)


# Standard-library names newer than Python 3.8, with the version that brought them: (module, name).
NEW_IN: dict[tuple[str, str | None], tuple[int, int]] = {
    ("zoneinfo", None): (3, 9),
    ("graphlib", None): (3, 9),
    ("itertools", "pairwise"): (3, 10),
    ("dataclasses", "KW_ONLY"): (3, 10),
    ("typing", "ParamSpec"): (3, 10),
    ("typing", "TypeAlias"): (3, 10),
    ("datetime", "UTC"): (3, 11),
    ("tomllib", None): (3, 11),
    ("enum", "StrEnum"): (3, 11),
    ("typing", "Self"): (3, 11),
    ("typing", "assert_never"): (3, 11),
    ("asyncio", "TaskGroup"): (3, 11),
    ("hashlib", "file_digest"): (3, 11),
    ("contextlib", "chdir"): (3, 11),
    ("itertools", "batched"): (3, 12),
    ("typing", "override"): (3, 12),
}


def required_python(sources: list[Path]) -> tuple[int, int]:
    """The newest Python any NEW_IN name the sources import or use as module.name needs."""
    needed = (3, 8)
    for source in sources:
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            used: list[tuple[str, str | None]] = []
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                used += [(node.module, None)] + [(node.module, a.name) for a in node.names]
            elif isinstance(node, ast.Import):
                used += [(a.name, None) for a in node.names]
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                used.append((node.value.id, node.attr))
            for name in used:
                needed = max(needed, NEW_IN.get(name, (3, 8)))
    return needed


def test_the_backup_tools_minimum_python_is_what_its_code_uses(tmp_path: Path) -> None:
    sources = sorted((REPO_ROOT / "infra" / "backup").glob("*.py"))
    assert required_python(sources) == BACKUP_MIN_PYTHON == (3, 11)
    # The scan sees a newer name where it is used.
    newer = tmp_path / "newer.py"
    newer.write_text("import itertools\nitertools.batched([], 2)\n")
    assert required_python([*sources, newer]) == (3, 12)
