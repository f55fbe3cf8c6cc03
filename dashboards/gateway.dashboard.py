"""grafanalib entry point of the gateway dashboard (panels defined in infra/dashboards/gateway.py)."""

from infra.dashboards import gateway
from infra.dashboards.grafana import build

dashboard = build(gateway.DASHBOARD)
