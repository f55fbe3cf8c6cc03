"""The datasources dashboards query, and the fixed uids Grafana provisioning gives them.

Panels and targets point at a datasource template variable (`${datasource}` for Prometheus,
`${loki_datasource}` for Loki, type `datasource`), not at a uid: on a stock kube-prometheus-stack
Grafana, whose datasources have uids of its own, the variable resolves to its default Prometheus.
Where this project provisions Grafana (`infra.stack.grafana`: Docker, bare metal; install mode's
chart values) the datasources get these uids, Prometheus is the default and Loki the only Loki,
so each variable's default resolves to them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Datasource:
    uid: str
    type: str
    name: str
    # The dashboards' datasource template variable for this type ("" = not queried by panels).
    variable: str = ""

    def ref(self) -> dict[str, str]:
        """How a panel or target points at this datasource in dashboard JSON: its variable."""
        return {"type": self.type, "uid": f"${{{self.variable}}}"}


PROMETHEUS = Datasource("friday-prometheus", "prometheus", "Prometheus", "datasource")
LOKI = Datasource("friday-loki", "loki", "Loki", "loki_datasource")
ALERTMANAGER = Datasource("friday-alertmanager", "alertmanager", "Alertmanager")
# The datasources panels query, each with its template variable (in this order on the dashboard).
QUERIED: tuple[Datasource, ...] = (PROMETHEUS, LOKI)

DATASOURCES: tuple[Datasource, ...] = (PROMETHEUS, LOKI, ALERTMANAGER)
