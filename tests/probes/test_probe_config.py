"""The probes as data: which probes a stack gets, their modules, the scrape jobs, the Kubernetes
Probe resources (validated against the Prometheus Operator's CRD), and no credential anywhere."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from infra import crds, render
from infra.settings import Settings
from infra.stack import blackbox, build_stack, probe_auth
from infra.stack.blackbox import probe_targets
from infra.stack.probe_resource import probe_manifests
from testbed.settings import settings_of as support_settings

PROBE_CRD = "monitoring.coreos.com_probes.yaml"


def settings_of(values: dict[str, Any], secrets: frozenset[str] = frozenset({"metricsToken"})) -> Settings:
    return support_settings(values, secrets)


PROXIED = {"proxyEnabled": True, "proxyTlsSource": "self-signed", "proxyHttpsHostPort": 8443}


def test_probes_follow_the_settings() -> None:
    assert [p.name for p in blackbox.probes(settings_of({}, frozenset()))] == ["health"]
    assert [p.name for p in blackbox.probes(settings_of({}))] == ["health", "websocket"]
    proxied = {p.name: p for p in blackbox.probes(settings_of(PROXIED))}
    assert list(proxied) == ["health", "websocket", "https", "redirect", "websocket-proxy"]
    assert proxied["https"].target == "https://proxy:8443/health"
    assert [p.name for p in proxied.values() if p.slo] == ["health", "https"]
    public = blackbox.probes(settings_of({**PROXIED, "probePublicUrl": "https://friday.example.net"}))
    assert {p.name: p.target for p in public}["https"] == "https://friday.example.net/health"


def test_modules_check_what_a_client_sees() -> None:
    mods = blackbox.modules(settings_of(PROXIED))
    assert set(mods) == {
        "gateway_health",
        "public_https",
        "http_redirect",
        "websocket_proxy_upgrade",
        "websocket_upgrade",
    }
    assert mods["gateway_health"]["http"]["fail_if_body_not_matches_regexp"] == ['"status"\\s*:\\s*"ok"']
    https = mods["public_https"]["http"]
    assert https["fail_if_not_ssl"] is True
    # A generated self-signed certificate is the trust anchor; the host name is checked.
    assert https["tls_config"] == {"server_name": "localhost", "ca_file": blackbox.CA_PATH}
    assert "insecure_skip_verify" not in json.dumps(mods)
    location = mods["http_redirect"]["http"]["fail_if_header_not_matches"][0]
    assert location == {"header": "Location", "regexp": "^https://localhost:8443/health$"}
    for module in ("websocket_upgrade", "websocket_proxy_upgrade"):
        ws = mods[module]["tcp"]["query_response"]
        assert ws[0]["send"].startswith("GET /ws/metrics HTTP/1.1\r\n") and ws[0]["send"].endswith("\r\n\r")
        assert "Upgrade: websocket\r\nConnection: Upgrade\r\n" in ws[0]["send"]
        assert ws[1]["expect"] == r"^HTTP/1\.1 101 "
    # An operator's certificate is checked against the system roots: no ca_file.
    own = blackbox.modules(settings_of({**PROXIED, "proxyTlsSource": "secrets"}))
    assert "ca_file" not in own["public_https"]["http"]["tls_config"]


def test_health_body_regexp_is_a_setting_and_must_compile() -> None:
    mods = blackbox.modules(settings_of({"probeHealthBodyRegexp": '"status":"ok"'}))
    assert mods["gateway_health"]["http"]["fail_if_body_not_matches_regexp"] == ['"status":"ok"']
    with pytest.raises(ValueError, match="probeHealthBodyRegexp"):
        settings_of({"probeHealthBodyRegexp": "(unclosed"})


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"probeTimeoutSeconds": 30}, ["probeTimeoutSeconds = 30", "probeInterval = '30s'"]),
        ({"certExpiryCriticalDays": 30}, ["certExpiryCriticalDays = 30", "certExpiryWarningDays = 21"]),
        ({"sloWindowDays": 60}, ["prometheusRetentionTime = '30d'", "sloWindowDays = 60"]),
        ({"sloAvailabilityObjective": 100}, ["sloAvailabilityObjective"]),
        ({"probePublicUrl": "http://x"}, ["probePublicUrl"]),
    ],
)
def test_bad_probe_and_slo_settings_are_refused_by_name(values: dict[str, Any], words: list[str]) -> None:
    with pytest.raises(ValueError) as err:
        settings_of(values)
    for word in words:
        assert word in str(err.value)


def test_scrape_jobs_use_the_multi_target_pattern() -> None:
    settings = settings_of(PROXIED)
    files = {f.path: f.content for f in build_stack(settings).service("prometheus").files}
    config = yaml.safe_load(files["/etc/prometheus/prometheus.yml"])
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    health = jobs["probe-health"]
    assert health["metrics_path"] == "/probe"
    assert health["params"] == {"module": ["gateway_health"]}
    assert health["static_configs"][0]["targets"] == ["http://gateway:18789/health"]
    assert health["static_configs"][0]["labels"] == {
        "service": "probe-health",
        "environment": "dev",
        "probe": "health",
        "slo": "availability",
    }
    assert health["relabel_configs"][-1] == {"target_label": "__address__", "replacement": "blackbox:9115"}
    assert (health["scrape_interval"], health["scrape_timeout"]) == ("30s", "11s")
    assert jobs["blackbox"]["metrics_path"] == "/metrics"


def test_no_credential_in_any_rendered_file(tmp_path: Path) -> None:
    settings = settings_of(PROXIED)
    render.write(settings, tmp_path / "out")
    files = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    blackbox_yml = next(p for p in files if p.name == blackbox.CONFIG_FILE)
    assert "X-API-Key" not in blackbox_yml.read_text()
    caddyfile = next(p for p in files if p.parent.name == "friday-probe-auth")
    assert f"{{env.{probe_auth.KEY_ENV}}}" in caddyfile.read_text()
    service = json.loads((tmp_path / "out" / "services" / "probe-auth.json").read_text())
    assert service["env"][probe_auth.KEY_ENV] == "<secret:metricsToken>"


def test_stack_runs_blackbox_after_what_it_probes() -> None:
    spec = build_stack(settings_of(PROXIED))
    names = [s.name for s in spec.services]
    assert names.index("blackbox") > names.index("proxy") > names.index("gateway")
    bb = spec.service("blackbox")
    assert (bb.uid, bb.gid) == (65534, 65534) and bb.read_only_root
    assert bb.published() == () and [p.number for p in bb.ports] == [blackbox.PORT]
    assert bb.image.tag != "latest" and bb.metrics is not None
    assert {f.secret.key for f in bb.secret_files} == {"proxyTlsCert"}
    auth = spec.service("probe-auth")
    assert auth.published() == () and [p.number for p in auth.ports] == [probe_auth.PORT, probe_auth.PROXY_PORT]
    assert names.index("probe-auth") > names.index("proxy") and "proxy" in auth.depends_on
    # The proxy's certificate reaches probe-auth too (its second site verifies the proxy with it).
    assert [(f.path, f.secret.key, f.mode) for f in auth.secret_files] == [(probe_auth.CA_PATH, "proxyTlsCert", "0444")]
    plain = build_stack(settings_of({})).service("probe-auth")
    assert [p.number for p in plain.ports] == [probe_auth.PORT] and plain.secret_files == ()
    assert "proxy" not in plain.depends_on


def _site(caddyfile: str, port: int) -> str:
    start = caddyfile.index(f"http://:{port} {{\n")
    end = caddyfile.find("\n}\n", start)
    return caddyfile[start : end + 3]


def test_websocket_probe_through_the_proxy_is_credentialed_and_verifies_the_proxy() -> None:
    """The proxied upgrade goes through probe-auth's second site, to the address the HTTPS probe
    checks, with the same Host, TLS server name and trust anchor: never skipping verification."""
    proxied = {p.name: p for p in blackbox.probes(settings_of(PROXIED))}
    assert proxied["websocket-proxy"].target == f"probe-auth:{probe_auth.PROXY_PORT}"
    assert proxied["websocket-proxy"].module == blackbox.MODULE_WS_PROXY
    text = _site(build_stack(settings_of(PROXIED)).service("probe-auth").files[0].content, probe_auth.PROXY_PORT)
    assert "reverse_proxy https://proxy:8443 {" in text
    assert f"header_up X-API-Key {{env.{probe_auth.KEY_ENV}}}" in text
    assert "header_up Host localhost\n" in text and "tls_server_name localhost\n" in text
    assert f"tls_trusted_ca_certs {probe_auth.CA_PATH}\n" in text
    assert "versions 1.1\n" in text and "insecure" not in text
    assert "method GET" in text and "path /ws/metrics" in text and "respond 404" in text
    # An operator's certificate: the system roots.
    own = build_stack(settings_of({**PROXIED, "proxyTlsSource": "secrets"})).service("probe-auth")
    assert "tls_trusted_ca_certs" not in own.files[0].content and own.secret_files == ()
    # probePublicUrl: what clients use, by its own name.
    public = settings_of({**PROXIED, "probePublicUrl": "https://friday.example.net:4443"})
    text = _site(build_stack(public).service("probe-auth").files[0].content, probe_auth.PROXY_PORT)
    assert "reverse_proxy https://friday.example.net:4443 {" in text
    assert "header_up Host friday.example.net:4443\n" in text and "tls_server_name friday.example.net\n" in text
    assert "tls_trusted_ca_certs" not in text
    default_port = blackbox.proxy_hop(settings_of({**PROXIED, "probePublicUrl": "https://friday.example.net"}))
    assert default_port == probe_auth.ProxyHop(
        "friday.example.net:443", "friday.example.net", "friday.example.net", None
    )
    # Without the key there is no credentialed probe, and an uncredentialed one could not tell a
    # proxy that drops the upgrade headers from a refused credential (401 either way): none.
    assert [p.name for p in blackbox.probes(settings_of(PROXIED, frozenset()))] == ["health", "https", "redirect"]
    assert blackbox.proxy_hop(settings_of(PROXIED, frozenset())) is None


def _strict(schema: Any) -> Any:
    """The CRD schema with unknown fields refused (structural schemas allow them by default)."""
    schema = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node and "additionalProperties" not in node:
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


def probe_schema() -> Any:
    crd = yaml.safe_load(crds.verified(files=(PROBE_CRD,))[PROBE_CRD])
    [version] = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    return _strict(version["schema"]["openAPIV3Schema"])


def test_probe_resources_validate_against_the_operator_crd() -> None:
    settings = settings_of(PROXIED)
    manifests = probe_manifests(settings, {"release": "kube-prometheus-stack"})
    assert [m["spec"]["jobName"] for m in manifests] == [t.job for t in probe_targets(settings)]
    schema = probe_schema()
    for manifest in manifests:
        jsonschema.validate(manifest, schema)
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", manifest["metadata"]["name"])
    https = next(m for m in manifests if m["spec"]["jobName"] == "probe-https")
    assert https["spec"]["prober"] == {"url": "blackbox:9115", "scheme": "http", "path": "/probe"}
    assert https["spec"]["targets"]["staticConfig"]["labels"]["slo"] == "availability"
    # The check is real: an unknown field and a wrong type are refused.
    broken = copy.deepcopy(https)
    broken["spec"]["targets"]["staticConfig"]["url"] = "x"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)
    broken = copy.deepcopy(https)
    broken["spec"]["interval"] = "thirty seconds"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)
