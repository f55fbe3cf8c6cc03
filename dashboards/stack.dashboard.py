"""grafanalib entry point of the monitoring-stack dashboard (panels in infra/dashboards/stack.py)."""

from infra.dashboards import stack
from infra.dashboards.grafana import build

dashboard = build(stack.DASHBOARD)
