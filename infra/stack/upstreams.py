"""Where services reach the monitoring services on the stack network (service name and port).

Prometheus and Alertmanager take theirs from infra.monitoring.endpoints, Loki from
infra.stack.loki.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.monitoring import endpoints
from infra.stack import loki


@dataclass(frozen=True)
class Upstream:
    service: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.service}:{self.port}"


PROMETHEUS = Upstream(endpoints.PROMETHEUS, endpoints.PROMETHEUS_PORT)
ALERTMANAGER = Upstream(endpoints.ALERTMANAGER, endpoints.ALERTMANAGER_PORT)
LOKI = Upstream(loki.NAME, loki.HTTP_PORT)
