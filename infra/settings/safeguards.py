"""Choices with known consequences: refused unless the stack names them in `friday:force`.

Every safeguard applies to every environment; those about exposure relax only on a stack
declared a development one (`environment` 'dev' or 'local', see Settings.is_development).
An unknown environment name gets every safeguard.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import ip_address

from infra import PROJECT
from infra.settings.hazards import is_wildcard
from infra.settings.model import DEVELOPMENT_ENVIRONMENTS, Settings

# Prometheus finds the latest sample of a series within this look-back (its default
# --query.lookback-delta), and the rules' rate() windows are this long too.
LOOKBACK_SECONDS = 300
# Two samples must fall in one look-back window, so one missed scrape or evaluation leaves no gap
# and rate() over 5m has the two points it needs.
MAX_INTERVAL_SECONDS = LOOKBACK_SECONDS // 2

_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def duration_seconds(value: str) -> float:
    """Seconds of a Prometheus duration such as '1h30m'."""
    return sum(int(n) * _UNIT_SECONDS[u] for n, u in re.findall(r"([0-9]+)(ms|s|m|h|d|w|y)", value))


def _loopback(address: object) -> bool:
    return ip_address(str(address)).is_loopback


def _where(settings: Settings) -> str:
    return (
        f"on environment {settings.environment!r} (not a development one: "
        f"{' or '.join(map(repr, DEVELOPMENT_ENVIRONMENTS))})"
    )


def _interval(suffix: str) -> Callable[[Settings], str | None]:
    """Every setting whose name ends with suffix (scrapeInterval, gatewayScrapeInterval...): new ones too."""

    def check(settings: Settings) -> str | None:
        reasons = []
        for name, field in type(settings).model_fields.items():
            if not name.endswith(suffix):
                continue
            value = str(getattr(settings, name))
            if duration_seconds(value) > MAX_INTERVAL_SECONDS:
                reasons.append(f"{PROJECT}:{field.alias or name} = {value!r}")
        if not reasons:
            return None
        return (
            f"{' and '.join(reasons)} refused on every environment: longer than "
            f"{MAX_INTERVAL_SECONDS // 60}m{MAX_INTERVAL_SECONDS % 60}s, and Prometheus looks back "
            f"{LOOKBACK_SECONDS // 60}m for a series' latest sample while the rules' rate() needs two samples in "
            "5m, so panels and alerts would have gaps; allowed: 2m30s or less"
        )

    return check


def _anonymous_grafana(settings: Settings) -> str | None:
    if not settings.grafana_anonymous_enabled:
        return None
    if not _loopback(settings.grafana_bind_address):
        return (
            f"{PROJECT}:grafanaAnonymousEnabled = true is refused with grafanaBindAddress = "
            f"'{settings.grafana_bind_address}', not a loopback address, on every environment (anyone who "
            "reaches that address reads every dashboard); bind Grafana to 127.0.0.1 or turn anonymous access off"
        )
    if not settings.is_development:
        return (
            f"{PROJECT}:grafanaAnonymousEnabled = true is refused {_where(settings)} "
            "(anyone reaching Grafana reads every dashboard)"
        )
    return None


def _swagger_ui(settings: Settings) -> str | None:
    if settings.swagger_ui_enabled and not settings.is_development:
        return f"{PROJECT}:swaggerUiEnabled = true is refused {_where(settings)} (it exposes the API explorer)"
    return None


def _self_signed(settings: Settings) -> str | None:
    if settings.proxy_enabled and settings.proxy_tls_source == "self-signed" and not settings.is_development:
        return (
            f"{PROJECT}:proxyTlsSource = 'self-signed' is refused {_where(settings)} (every client would have to "
            "skip certificate checks); set the secrets proxyTlsCert and proxyTlsKey and proxyTlsSource = 'secrets'"
        )
    return None


def _every_address(what: str, keys: tuple[str, ...]) -> Callable[[Settings], str | None]:
    """A listener with no login of its own bound to every address (0.0.0.0, ::) outside development."""

    def check(settings: Settings) -> str | None:
        fields = {f.alias or n: n for n, f in type(settings).model_fields.items()}
        bound = [(k, getattr(settings, fields[k])) for k in keys]
        wide = [f"{PROJECT}:{k} = '{v}'" for k, v in bound if is_wildcard(v)]
        if not wide or settings.is_development:
            return None
        return (
            f"{' and '.join(wide)} is refused {_where(settings)}: it binds {what} to every address of the host, "
            "where anyone who reaches the machine can connect (a port Docker publishes also passes by host "
            "firewalls such as ufw); bind it to 127.0.0.1 or to one address of a private network"
        )

    return check


@dataclass(frozen=True)
class Safeguard:
    name: str
    check: Callable[[Settings], str | None]  # the refusal's reason, or None when it does not apply


SAFEGUARDS: tuple[Safeguard, ...] = (
    Safeguard("long-scrape-interval", _interval("scrape_interval")),
    Safeguard("long-evaluation-interval", _interval("evaluation_interval")),
    Safeguard("anonymous-grafana", _anonymous_grafana),
    Safeguard("swagger-ui", _swagger_ui),
    Safeguard("self-signed-certificate", _self_signed),
    Safeguard(
        "gateway-on-every-address",
        _every_address(
            "the gateway's API (on bare metal, and on Docker without the reverse proxy)", ("gatewayBindAddress",)
        ),
    ),
    Safeguard(
        "monitoring-on-every-address",
        _every_address("Prometheus and Alertmanager, which have no login,", ("monitoringBindAddress",)),
    ),
)
NAMES = tuple(s.name for s in SAFEGUARDS)


def refusals(settings: Settings) -> list[str]:
    """One line per safeguard the settings trip and do not force, and per unknown name in friday:force."""
    problems = [
        f"{PROJECT}:force = {settings.force!r}: {name!r} is not a safeguard; allowed: {', '.join(NAMES)}"
        for name in sorted(settings.forced - set(NAMES))
    ]
    for guard in SAFEGUARDS:
        reason = guard.check(settings)
        if reason and guard.name not in settings.forced:
            problems.append(f"{reason}; to accept it anyway add '{guard.name}' to {PROJECT}:force")
    return problems
