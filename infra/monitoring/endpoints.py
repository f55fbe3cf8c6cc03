"""Names, ports and paths of the monitoring services, defined once."""

from __future__ import annotations

PROMETHEUS = "prometheus"
PROMETHEUS_PORT = 9090
PROMETHEUS_CONFIG_DIR = "/etc/prometheus"
PROMETHEUS_DATA_DIR = "/prometheus"

ALERTMANAGER = "alertmanager"
ALERTMANAGER_PORT = 9093
ALERTMANAGER_CONFIG_DIR = "/etc/alertmanager"
ALERTMANAGER_DATA_DIR = "/alertmanager"

# node-exporter beside a bare-metal Prometheus (infra/host/prometheus_files.py), on loopback.
NODE_EXPORTER_PORT = 9100

# Both upstream images run as nobody:nogroup and ship busybox wget for healthchecks.
NOBODY = 65534
HEALTH_PATH = "/-/healthy"
READY_PATH = "/-/ready"
