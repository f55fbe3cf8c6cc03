"""Names on the blackbox exporter's probe series, shared by the probes (infra/stack/blackbox.py),
the alert rules and the dashboards. A leaf module: it imports nothing of the project."""

from __future__ import annotations

# `probe` names the check (job `probe-<name>`); `slo` marks the probes the availability SLI counts.
PROBE_LABEL = "probe"
SLO_LABEL = "slo"
SLO_AVAILABILITY = "availability"

PROBE_HEALTH = "health"
PROBE_HTTPS = "https"
PROBE_REDIRECT = "redirect"
PROBE_WS_PROXY = "websocket-proxy"
PROBE_WS_UPGRADE = "websocket"
WEBSOCKET_PROBES = (PROBE_WS_UPGRADE, PROBE_WS_PROXY)
