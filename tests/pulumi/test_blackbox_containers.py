"""The blackbox exporter and probe-auth containers under Pulumi mocks: unpublished, hardened, and the
admin key reaching probe-auth only as a secret environment variable, never in a file."""

from __future__ import annotations

from typing import Any

from infra.stack import blackbox, probe_auth
from testbed.pulumi_harness import FAKE_AI_KEY, SECRET_SIG, Recorder, deploy

TOKEN = "probe-admin-key-0123456789abcdef"


def inputs(rec: Recorder, service: str) -> dict[str, Any]:
    return dict(rec.named(f"friday-dev-{service}").inputs)


def uploads(rec: Recorder, service: str) -> dict[str, dict[str, Any]]:
    listed = inputs(rec, service).get("uploads") or []
    # One secret upload makes the whole list a secret Output.
    if isinstance(listed, dict) and SECRET_SIG in listed:
        listed = listed["value"]
    return {u["file"]: u for u in listed}


def test_blackbox_and_probe_auth_run_unpublished_with_the_key_as_a_secret_env() -> None:
    def check(rec: Recorder, _: Any) -> None:
        for name in (blackbox.NAME, probe_auth.NAME):
            c = inputs(rec, name)
            assert c["user"] == "65534:65534"
            assert c["readOnly"] is True
            assert not c.get("ports"), f"{name} publishes a port"
        images = {r.inputs["name"] for r in rec.of_type("docker:index/remoteImage:RemoteImage")}
        assert "prom/blackbox-exporter:v0.27.0" in images
        # The key is in probe-auth's environment, as a secret Output; in no uploaded file.
        envs = inputs(rec, probe_auth.NAME)["envs"]
        assert isinstance(envs, dict) and SECRET_SIG in envs
        assert f"{probe_auth.KEY_ENV}={TOKEN}" in envs["value"]
        for name in (blackbox.NAME, probe_auth.NAME):
            for upload in uploads(rec, name).values():
                assert TOKEN not in str(upload["content"])
        assert TOKEN not in str(inputs(rec, blackbox.NAME).get("envs"))

    deploy(check, {}, {"anthropicApiKey": FAKE_AI_KEY, "metricsToken": TOKEN})


def test_no_probe_auth_without_the_key() -> None:
    def check(rec: Recorder, _: Any) -> None:
        assert not [r for r in rec.resources if r.name == f"friday-dev-{probe_auth.NAME}"]
        inputs(rec, blackbox.NAME)

    deploy(check)


def test_probe_auth_gets_the_proxy_certificate_to_verify_the_proxy_with() -> None:
    """Its second site sends the credentialed upgrade through the proxy and verifies the proxy's
    generated certificate: that certificate is uploaded to probe-auth (public, read-only), the key
    still only in its environment."""

    def check(rec: Recorder, _: Any) -> None:
        init = inputs(rec, f"{probe_auth.NAME}-config-init")
        files = uploads(rec, f"{probe_auth.NAME}-config-init")
        ca = files[probe_auth.CA_PATH]
        assert ca["content"].endswith("generated-friday-proxy-tls-cert") and ca["permissions"] == "0444"
        assert isinstance(init["uploads"], dict) and SECRET_SIG in init["uploads"]
        caddyfile = next(str(u["content"]) for path, u in files.items() if path.endswith("/Caddyfile"))
        assert f"tls_trusted_ca_certs {probe_auth.CA_PATH}" in caddyfile and TOKEN not in caddyfile
        assert f"{probe_auth.KEY_ENV}={TOKEN}" in inputs(rec, probe_auth.NAME)["envs"]["value"]

    deploy(
        check,
        {"proxyEnabled": True, "proxyTlsSource": "self-signed"},
        {"anthropicApiKey": FAKE_AI_KEY, "metricsToken": TOKEN},
    )
