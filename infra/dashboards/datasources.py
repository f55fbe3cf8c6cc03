"""The datasources dashboards query, by the fixed uid Grafana provisioning gives them.

Dashboards reference datasources by uid only (no `__inputs`), so provisioning must create
exactly these uids; `infra.stack.grafana` provisions them from this module.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Datasource:
    uid: str
    type: str
    name: str

    def ref(self) -> dict[str, str]:
        """How a panel or target points at this datasource in dashboard JSON."""
        return {"type": self.type, "uid": self.uid}


PROMETHEUS = Datasource("friday-prometheus", "prometheus", "Prometheus")
LOKI = Datasource("friday-loki", "loki", "Loki")
ALERTMANAGER = Datasource("friday-alertmanager", "alertmanager", "Alertmanager")

DATASOURCES: tuple[Datasource, ...] = (PROMETHEUS, LOKI, ALERTMANAGER)
