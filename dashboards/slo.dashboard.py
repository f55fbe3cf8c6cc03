"""grafanalib entry point of the availability dashboard (panels in infra/dashboards/slo.py)."""

from infra.dashboards import slo
from infra.dashboards.grafana import build

dashboard = build(slo.DASHBOARD)
