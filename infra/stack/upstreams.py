"""Where services reach the monitoring services on the stack network (service name and port).

Prometheus and Alertmanager take theirs from infra.monitoring.endpoints; the Loki service is
built by its own module; until it lands, its network name and port are recorded here.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.monitoring import endpoints


@dataclass(frozen=True)
class Upstream:
    service: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.service}:{self.port}"


PROMETHEUS = Upstream(endpoints.PROMETHEUS, endpoints.PROMETHEUS_PORT)
ALERTMANAGER = Upstream(endpoints.ALERTMANAGER, endpoints.ALERTMANAGER_PORT)
LOKI = Upstream("loki", 3100)
