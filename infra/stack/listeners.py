"""Every place where the stack's listeners share addresses, and the ports that collide there.

Two listeners collide when they want one port on addresses that overlap (`addresses_clash`: the same
address, or either is a wildcard, 0.0.0.0 or ::, which takes the port on every address). The second
would fail to start, or worse, a client would reach the wrong program. The places:

- the Docker host (docker target): the published host ports of every service;
- the gateway's pod (kubernetes target): the gateway and its metrics-auth sidecar share one network
  namespace (infra/targets/kubernetes_map/gateway_objects.py, metrics_auth_sidecar.py);
- the blackbox exporter's pod (kubernetes target): the exporter and its probe-auth sidecar
  (infra/targets/kubernetes_map/probes.py);
- a bare-metal host (the `host/` files every render writes): the gateway, the metrics-auth unit,
  and what the host render expects beside them (infra/host/prometheus_files.py): Debian's Prometheus and
  Alertmanager with their packaged defaults, node-exporter on loopback, Grafana's Alloy package,
  and a Loki on the host when `hostLokiUrl` points at a loopback address.

`render` writes the bare-metal files for every stack, so that place is judged on every stack.
tests/unit/test_listeners.py checks these declarations against what the targets render.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv6Address, ip_address
from urllib.parse import urlsplit

from infra import PROJECT
from infra.monitoring import endpoints
from infra.settings import Settings
from infra.settings.hazards import is_wildcard
from infra.stack import alloy, blackbox, gateway, metrics_auth, probe_auth
from infra.stack.spec import StackSpec

EVERY_ADDRESS = "0.0.0.0"
LOOPBACK = "127.0.0.1"
# Upstream Alertmanager's default gossip address (Debian's package keeps it): every address, 9094.
ALERTMANAGER_CLUSTER_PORT = 9094
# Where the probe-auth sidecar binds inside the exporter's pod (only the exporter reaches it).
PROBE_AUTH_BIND = LOOPBACK


@dataclass(frozen=True)
class Listener:
    owner: str  # who listens, in words: 'gateway/http', "Debian's prometheus (package default)"
    address: str  # the address it binds; 0.0.0.0 or :: for every address
    port: int
    keys: tuple[str, ...] = ()  # the settings that choose this port or address, camelCase


@dataclass(frozen=True)
class Place:
    name: str  # where, in words, as the message says it
    noun: str  # 'host port' or 'port'
    listeners: tuple[Listener, ...]


def _plain(address: str) -> str:
    addr = ip_address(address)
    if isinstance(addr, IPv6Address) and addr.ipv4_mapped is not None:
        return str(addr.ipv4_mapped)
    return str(addr)


def addresses_clash(a: str, b: str) -> bool:
    """Two binds of one port collide: the same address (an IPv4-mapped IPv6 address is its IPv4 one),
    or either is a wildcard (0.0.0.0, ::)."""
    return is_wildcard(a) or is_wildcard(b) or _plain(a) == _plain(b)


def docker_host(spec: StackSpec) -> Place:
    listeners = []
    for service in spec.services:
        for port in service.published():
            assert port.host is not None
            listeners.append(Listener(f"{service.name}/{port.name}", port.host.address, port.host.port))
    return Place("on the Docker host", "host port", tuple(listeners))


def gateway_pod(settings: Settings, spec: StackSpec) -> Place:
    """The gateway binds every address in its container; the sidecar's Caddy too (no `bind`)."""
    service = spec.service(gateway.NAME)
    listeners = [Listener(f"{gateway.NAME}/{p.name}", EVERY_ADDRESS, p.number, ("gatewayPort",)) for p in service.ports]
    listeners.append(
        Listener(f"the {metrics_auth.NAME} sidecar", EVERY_ADDRESS, settings.metrics_auth_port, ("metricsAuthPort",))
    )
    return Place("in the gateway's pod on Kubernetes (its containers share one network)", "port", tuple(listeners))


def blackbox_pod(settings: Settings) -> Place:
    listeners = [Listener(f"{blackbox.NAME}/{blackbox.HTTP}", EVERY_ADDRESS, blackbox.PORT)]
    if blackbox.runs_websocket_probe(settings):
        listeners.append(Listener(f"the {probe_auth.NAME} sidecar", PROBE_AUTH_BIND, probe_auth.PORT))
    return Place(
        "in the blackbox exporter's pod on Kubernetes (its containers share one network)", "port", tuple(listeners)
    )


def _host_loki(settings: Settings) -> Listener | None:
    """A Loki on this host when hostLokiUrl names a loopback address (or localhost)."""
    parts = urlsplit(settings.host_loki_url)
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    if host == "localhost":
        host = LOOPBACK
    try:
        if not ip_address(host).is_loopback:
            return None
    except ValueError:
        return None
    return Listener("a Loki on this host", host, port, ("hostLokiUrl",))


def bare_metal(settings: Settings) -> Place:
    listeners = [
        Listener(
            f"the {gateway.NAME}",
            str(settings.gateway_bind_address),
            settings.gateway_port,
            ("gatewayPort", "gatewayBindAddress"),
        )
    ]
    if metrics_auth.enabled(settings):
        listeners.append(
            Listener(f"the {metrics_auth.NAME} unit", LOOPBACK, settings.metrics_auth_port, ("metricsAuthPort",))
        )
    listeners += [
        # Debian's packages start with empty ARGS: the upstream defaults, every address.
        Listener("Prometheus (Debian's package)", EVERY_ADDRESS, endpoints.PROMETHEUS_PORT),
        Listener("Alertmanager (Debian's package)", EVERY_ADDRESS, endpoints.ALERTMANAGER_PORT),
        Listener("Alertmanager's cluster port (Debian's package)", EVERY_ADDRESS, ALERTMANAGER_CLUSTER_PORT),
        # The rendered host/default/prometheus-node-exporter binds it to loopback.
        Listener("node-exporter", LOOPBACK, endpoints.NODE_EXPORTER_PORT),
        # Grafana's alloy package listens on 127.0.0.1 with the same port number as the container.
        Listener("Alloy (Grafana's package)", LOOPBACK, alloy.HTTP_PORT),
    ]
    loki = _host_loki(settings)
    if loki is not None:
        listeners.append(loki)
    return Place("on a bare-metal host (the host/ files every render writes)", "port", tuple(listeners))


def places(settings: Settings, spec: StackSpec) -> tuple[Place, ...]:
    """The places of the stack's target, and the bare-metal host (its files are rendered for every stack)."""
    if settings.target == "kubernetes":
        return (gateway_pod(settings, spec), blackbox_pod(settings), bare_metal(settings))
    return (docker_host(spec), bare_metal(settings))


def clashes(settings: Settings, where: tuple[Place, ...]) -> list[str]:
    """One line per pair of listeners that want one port on overlapping addresses."""
    problems = []
    for place in where:
        for i, second in enumerate(place.listeners):
            for first in place.listeners[:i]:
                if first.port == second.port and addresses_clash(first.address, second.address):
                    problems.append(_message(settings, place, first, second))
    return problems


def _keys(settings: Settings, place: Place, first: Listener, second: Listener) -> list[str]:
    keys = list(dict.fromkeys(first.keys + second.keys))
    if place.noun == "host port":
        # Published ports: the ...HostPort settings that hold this number.
        by_alias = {f.alias or n: n for n, f in type(settings).model_fields.items()}
        keys = [a for a, n in by_alias.items() if a.endswith("HostPort") and getattr(settings, n) == first.port]
    return keys


def _shown(settings: Settings, key: str) -> str:
    name = {f.alias or n: n for n, f in type(settings).model_fields.items()}[key]
    value = getattr(settings, name)
    return f"{PROJECT}:{key} = {str(value)!r}" if not isinstance(value, int) else f"{PROJECT}:{key} = {value}"


def _message(settings: Settings, place: Place, first: Listener, second: Listener) -> str:
    keys = _keys(settings, place, first, second)
    port_keys = [k for k in keys if k.endswith("Port") or k.endswith("Url")]
    set_by = f" (set by {' and '.join(_shown(settings, k) for k in keys)})" if keys else ""
    if len(port_keys) == 1:
        fix = f"give {PROJECT}:{port_keys[0]} another port"
    elif port_keys:
        fix = f"give one of {', '.join(f'{PROJECT}:{k}' for k in port_keys)} another port"
    else:
        fix = "give one of them another port"
    wildcard = (
        "a port on 0.0.0.0 or :: takes it on every address: "
        if is_wildcard(first.address) or is_wildcard(second.address)
        else ""
    )
    return (
        f"{place.noun} {second.port} {place.name} is wanted by both {first.owner} on {first.address} and "
        f"{second.owner} on {second.address}{set_by}; {wildcard}{fix}"
    )
