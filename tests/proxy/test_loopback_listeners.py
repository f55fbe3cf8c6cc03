"""The Caddy proxies that hold the admin API key listen where they say, checked on the real Caddy
(Debian's 2.6) through the kernel's socket table, not by reading the Caddyfile.

A host in a Caddy site address (`http://127.0.0.1:9480`) is a Host matcher, not a listen address:
Caddy still listens on every interface and serves anyone who sends `Host: 127.0.0.1`. The
bare-metal metrics-auth proxy and the Kubernetes probe-auth sidecar therefore say `bind 127.0.0.1`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests

from infra.render import artefacts
from infra.stack import metrics_auth, probe_auth
from infra.targets.kubernetes_map import probes
from testbed import localize
from testbed.processes import free_port, http_ok, log_tail, process, wait_for
from testbed.settings import settings_of
from tests.support.kubernetes import variant_settings
from tests.support.listeners import connects, listening_addresses, non_loopback_ipv4_addresses
from tests.support.real_gateway import BUILD_TIMEOUT_S, RealGateway

WITH_TOKEN = frozenset({metrics_auth.METRICS_SECRET})
# Another loopback address: the kernel routes all of 127/8 to lo, so a socket bound to every
# interface accepts here, one bound to 127.0.0.1 refuses.
OTHER_LOOPBACK = "127.0.0.2"


def host_caddyfile(port: int, upstream: str) -> str:
    """The rendered bare-metal Caddyfile with only its port and upstream changed (its bind stays)."""
    rendered = artefacts(settings_of({}, WITH_TOKEN))["host/metrics-auth/Caddyfile"]
    return localize.metrics_auth_caddyfile(rendered, f":{port}", upstream)


def assert_loopback_only(port: int, log: Path) -> None:
    assert listening_addresses(port) == {"127.0.0.1"}, log_tail(log)
    assert connects("127.0.0.1", port)
    for other in sorted({OTHER_LOOPBACK, *non_loopback_ipv4_addresses()}):
        assert not connects(other, port), f"{other}:{port} accepted a connection"


def test_bare_metal_metrics_auth_listens_on_loopback_only(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "Caddyfile"
    # The upstream does not matter here: nothing is forwarded.
    config.write_text(host_caddyfile(port, f"127.0.0.1:{free_port()}"))
    argv = ["caddy", "run", "--adapter", "caddyfile", "--config", str(config)]
    log = tmp_path / "caddy.log"
    with process(argv, log, env=localize.metrics_auth_env(tmp_path / "caddy", "some-key")):
        wait_for(
            "the proxy",
            lambda: http_ok(f"http://127.0.0.1:{port}{metrics_auth.HEALTH_PATH}"),
            15,
            lambda: log_tail(log),
        )
        assert_loopback_only(port, log)


# The first real-gateway test of a run may have to build it (or wait for another build's lock).
@pytest.mark.timeout(BUILD_TIMEOUT_S + 90)
def test_bare_metal_metrics_auth_scrapes_the_real_gateway_on_loopback(tmp_path: Path) -> None:
    with RealGateway.start(tmp_path / "gateway") as gw:
        key = gw.create_api_key("admin")
        port = free_port()
        config = tmp_path / "Caddyfile"
        config.write_text(host_caddyfile(port, gw.url.removeprefix("http://")))
        argv = ["caddy", "run", "--adapter", "caddyfile", "--config", str(config)]
        log = tmp_path / "caddy.log"
        with process(argv, log, env=localize.metrics_auth_env(tmp_path / "caddy", key)):
            base = f"http://127.0.0.1:{port}"
            wait_for("the proxy", lambda: http_ok(f"{base}{metrics_auth.HEALTH_PATH}"), 15, lambda: log_tail(log))
            scrape = requests.get(f"{base}/metrics", timeout=30)
            assert scrape.status_code == 200 and "# HELP " in scrape.text, (scrape.status_code, scrape.text[:300])
            # Whatever Host a client claims, the listener itself is loopback only.
            assert_loopback_only(port, log)


def test_kubernetes_probe_auth_sidecar_listens_on_loopback_only(tmp_path: Path) -> None:
    """In the blackbox exporter's pod, probe-auth is for the exporter beside it only."""
    port = free_port()
    text = probes.probe_auth_caddyfile(variant_settings("full"))
    text, n = re.subn(rf"^http://:{probe_auth.PORT} \{{$", f"http://:{port} {{", text, flags=re.M)
    assert n == 1, text
    text = text.replace("storage file_system /tmp/caddy", f"storage file_system {tmp_path / 'storage'}")
    config = tmp_path / "Caddyfile"
    config.write_text(text)
    argv = ["caddy", "run", "--adapter", "caddyfile", "--config", str(config)]
    log = tmp_path / "caddy.log"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), probe_auth.KEY_ENV: "some-key"}
    with process(argv, log, env=env):
        wait_for(
            "probe-auth", lambda: http_ok(f"http://127.0.0.1:{port}{probe_auth.HEALTH_PATH}"), 15, lambda: log_tail(log)
        )
        assert_loopback_only(port, log)
