"""The Caddy key-adding proxy: one builder for metrics-auth and probe-auth.

Both exist for one reason: gateway 0.1.0 wants an admin API key in `X-API-Key`, and neither
Prometheus (2.42 has no `http_headers`, a ServiceMonitor no header field) nor the blackbox exporter
(literal header values only, so the key would sit in its config file) can send it from a secret.
So a small Caddy forwards exactly one `GET <path>` to the gateway with the key added, and answers
everything else with 404. The key comes from the environment per request (`{env.VAR}` is a runtime
placeholder: it stays one in the Caddyfile and in Caddy's adapted config), so no file holds it.

The Caddyfiles use only directives Debian's Caddy 2.6 and the pinned upstream image (2.9) both know.
What each proxy differs in (its path, upstream, health endpoint, a second site through the reverse
proxy) is a parameter here; infra/stack/metrics_auth.py and infra/stack/probe_auth.py say why.
"""

from __future__ import annotations

from dataclasses import dataclass

API_KEY_HEADER = "X-API-Key"
# Where Caddy may write (it keeps nothing we need): under /tmp, a tmpfs or the unit's private /tmp.
# Every Caddy of the stack (both key proxies and the Caddy reverse proxy) takes these from here.
CADDY_STORAGE_DIR = "/tmp/caddy"
CADDY_ENV = {
    "XDG_DATA_HOME": f"{CADDY_STORAGE_DIR}/data",
    "XDG_CONFIG_HOME": f"{CADDY_STORAGE_DIR}/config",
    "HOME": "/tmp",
}


def command(config_path: str) -> tuple[str, ...]:
    """`caddy run` on a Caddyfile (the upstream image's binary is on PATH)."""
    return ("caddy", "run", "--adapter", "caddyfile", "--config", config_path)


def key_header(key_env: str) -> str:
    return f"header_up {API_KEY_HEADER} {{env.{key_env}}}"


@dataclass(frozen=True)
class HealthRoute:
    path: str
    # Answer only requests from inside the container / host (a healthcheck run there).
    loopback_only: bool


@dataclass(frozen=True)
class Site:
    """One listening site that forwards `GET <path>`, and nothing else, through `forward`."""

    port: int
    matcher: str  # the named matcher's name (`@scrape`, `@websocket`)
    path: str
    forward: tuple[str, ...]  # the handler's lines (a `reverse_proxy` block), unindented
    # None: every interface (as in a container); else the `bind` directive's address.
    bind: str | None = None
    health: HealthRoute | None = None


@dataclass(frozen=True)
class KeyProxy:
    about: tuple[str, ...]  # the leading comment lines, without '# '
    sites: tuple[Site, ...]
    storage_dir: str | None = None


def reverse_proxy(upstream: str, *inner: str) -> tuple[str, ...]:
    return (f"reverse_proxy {upstream} {{", *(f"\t{line}" for line in inner), "}")


def _health(route: HealthRoute) -> list[str]:
    if route.loopback_only:
        return [
            "\t@health {",
            f"\t\tpath {route.path}",
            "\t\tremote_ip 127.0.0.1",
            "\t}",
            "\thandle @health {",
            '\t\trespond "ok" 200',
            "\t}",
        ]
    return [f"\thandle {route.path} {{", '\t\trespond "ok" 200', "\t}"]


def _site(site: Site) -> list[str]:
    return [
        f"http://:{site.port} {{",
        *([f"\tbind {site.bind}"] if site.bind else []),
        f"\t@{site.matcher} {{",
        "\t\tmethod GET",
        f"\t\tpath {site.path}",
        "\t}",
        f"\thandle @{site.matcher} {{",
        *(f"\t\t{line}" for line in site.forward),
        "\t}",
        *(_health(site.health) if site.health else []),
        "\thandle {",
        "\t\trespond 404",
        "\t}",
        "}",
    ]


def caddyfile(proxy: KeyProxy) -> str:
    """The Caddyfile (tabs, as `caddy fmt` writes them)."""
    lines = [
        *(f"# {line}" for line in proxy.about),
        "{",
        "\tadmin off",
        "\tauto_https off",
        *([f"\tstorage file_system {proxy.storage_dir}"] if proxy.storage_dir else []),
        "}",
    ]
    for site in proxy.sites:
        lines += ["", *_site(site)]
    return "\n".join(lines) + "\n"
