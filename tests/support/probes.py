"""The stack's RENDERED probes, run here: Debian's blackbox exporter and the probe-auth Caddy on
127.0.0.1, in front of the gateway (the double or the real one) and the live reverse proxy
(tests/support/proxy.py); probe-auth's second site goes through that proxy.

Only places change (free loopback ports, the test certificate's path, the double as upstream);
the modules, the Caddyfile and the probe targets are the rendered ones, mapped to local addresses.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests
import yaml

from infra import render
from infra.settings import Settings
from infra.stack import blackbox, gateway, probe_auth, proxy
from testbed import localize
from testbed.processes import binary, free_port, http_ok, running, wait_for
from tests.support.proxy import LocalProxy, port_of
from tests.support.tls import CertFiles

PROBE_TIMEOUT_S = 20


def parse_metrics(text: str) -> dict[str, float]:
    """`name{labels} value` lines of the exporter's answer, by name (labels dropped)."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        match = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$", line)
        if match:
            out[match.group(1)] = float(match.group(3))
    return out


@dataclass
class LocalProbes:
    settings: Settings
    url: str  # the exporter
    config: Path  # its localized blackbox.yml
    addresses: dict[str, str]  # stack address prefix -> local address prefix
    auth_port: int

    def local(self, target: str) -> str:
        for stack, here in self.addresses.items():
            if target.startswith(stack):
                return here + target[len(stack) :]
        raise AssertionError(f"no local address for probe target {target}")

    def probe(self, module: str, target: str) -> tuple[dict[str, float], str]:
        r = requests.get(
            f"{self.url}{blackbox.PROBE_PATH}",
            params={"module": module, "target": target, "debug": "true"},
            timeout=PROBE_TIMEOUT_S,
        )
        assert r.status_code == 200, r.text
        # Debug output: the probe's log, the metrics, then the module's configuration.
        metrics_part = r.text.split("Metrics that would have been returned:", 1)[-1]
        metrics_part = metrics_part.split("Module configuration:", 1)[0]
        return parse_metrics(metrics_part), r.text

    def run(self, name: str) -> tuple[dict[str, float], str]:
        """Run the stack's probe called `name` (its module, its target mapped here)."""
        [found] = [p for p in blackbox.probes(self.settings) if p.name == name]
        return self.probe(found.module, self.local(found.target))


def rendered(out: Path, service: str, config_dir: str, name: str) -> str:
    return (localize.rendered_files(out, service, config_dir) / name).read_text()


def local_caddyfile(
    text: str, upstream: str, port: int, storage: Path, proxied: tuple[int, str, CertFiles] | None = None
) -> str:
    """The rendered probe-auth Caddyfile on 127.0.0.1:port, forwarding to the gateway here; with
    `proxied` (its port, the proxy's local host:port, the proxy's certificate) its second site too."""
    replacements = {
        f"http://:{probe_auth.PORT} {{": f"http://:{port} {{\n\tbind 127.0.0.1",
        "storage file_system /tmp/caddy": f"storage file_system {storage}",
    }
    if proxied is not None:
        proxied_port, proxy_address, cert = proxied
        replacements[f"http://:{probe_auth.PROXY_PORT} {{"] = f"http://:{proxied_port} {{\n\tbind 127.0.0.1"
        replacements[f"reverse_proxy https://{proxy.NAME}:{proxy.HTTPS_PORT} {{"] = (
            f"reverse_proxy https://{proxy_address} {{"
        )
        replacements[f"tls_trusted_ca_certs {probe_auth.CA_PATH}"] = f"tls_trusted_ca_certs {cert.cert}"
    for old, new in replacements.items():
        assert old in text, f"{old!r} not in the rendered Caddyfile"
        text = text.replace(old, new)
    return re.sub(r"reverse_proxy (?!https://)\S+ \{", f"reverse_proxy {upstream} {{", text)


def local_blackbox_config(text: str, cert: CertFiles) -> str:
    doc = yaml.safe_load(text)
    for module in doc["modules"].values():
        tls = module.get("http", {}).get("tls_config", {})
        if "ca_file" in tls:
            assert tls["ca_file"] == blackbox.CA_PATH
            tls["ca_file"] = str(cert.cert)
    return str(yaml.safe_dump(doc, width=1000))


@contextlib.contextmanager
def local_probes(
    settings: Settings, double_port: int, token: str, cert: CertFiles, proxy_here: LocalProxy | None = None
) -> Iterator[LocalProbes]:
    """Render the stack, then run its probe-auth and blackbox exporter here."""
    folder = Path(tempfile.mkdtemp(prefix="friday-probes-"))
    try:
        out = folder / "render"
        render.write(settings, out)
        auth_port, proxied_port, exporter_port = free_port(), free_port(), free_port()
        proxied = None
        if blackbox.proxy_hop(settings) is not None:
            assert proxy_here is not None, "these settings probe through a reverse proxy: pass the running one"
            proxied = (proxied_port, f"127.0.0.1:{port_of(proxy_here.params.https_listen)}", cert)
        caddyfile = folder / "Caddyfile"
        caddyfile.write_text(
            local_caddyfile(
                rendered(out, probe_auth.NAME, probe_auth.CONFIG_DIR, "Caddyfile"),
                f"127.0.0.1:{double_port}",
                auth_port,
                folder / "caddy-storage",
                proxied,
            )
        )
        config = folder / blackbox.CONFIG_FILE
        config.write_text(
            local_blackbox_config(rendered(out, blackbox.NAME, blackbox.CONFIG_DIR, blackbox.CONFIG_FILE), cert)
        )
        command = localize.rendered_command(out, blackbox.NAME)
        command = localize.replace_flag(command, "--config.file", str(config))
        command = localize.replace_flag(command, "--web.listen-address", f"127.0.0.1:{exporter_port}")
        addresses = {
            f"http://{gateway.NAME}:{settings.gateway_port}": f"http://127.0.0.1:{double_port}",
            f"{probe_auth.NAME}:{probe_auth.PORT}": f"127.0.0.1:{auth_port}",
        }
        if proxy_here is not None:
            addresses[f"https://{proxy.NAME}:{proxy.HTTPS_PORT}"] = (
                f"https://127.0.0.1:{port_of(proxy_here.params.https_listen)}"
            )
            addresses[f"http://{proxy.NAME}:{proxy.HTTP_PORT}"] = proxy_here.http_url
            addresses[f"{probe_auth.NAME}:{probe_auth.PROXY_PORT}"] = f"127.0.0.1:{proxied_port}"
        env = {
            **os.environ,
            "HOME": str(folder),
            "XDG_DATA_HOME": str(folder / "data"),
            "XDG_CONFIG_HOME": str(folder / "config"),
            probe_auth.KEY_ENV: token,
        }
        caddy = [shutil.which("caddy") or "caddy", "run", "--adapter", "caddyfile", "--config", str(caddyfile)]
        exporter = [binary("prometheus-blackbox-exporter", "blackbox_exporter"), *command]
        with (
            running(caddy, folder / "probe-auth.log", [auth_port, *([proxied_port] if proxied else [])], env=env),
            running(exporter, folder / "blackbox.log", [exporter_port]),
        ):
            url = f"http://127.0.0.1:{exporter_port}"
            wait_for("blackbox exporter healthy", lambda: http_ok(f"{url}{blackbox.HEALTH_PATH}"), 15)
            yield LocalProbes(settings, url, config, addresses, auth_port)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
