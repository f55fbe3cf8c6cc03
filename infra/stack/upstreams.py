"""Where services reach the monitoring services on the stack network (service name and port).

The Prometheus and Alertmanager services are built by their own modules; until those land,
their network names and ports are recorded here, the one place to switch to the modules'
constants then. Loki's come from infra.stack.loki.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.stack import loki


@dataclass(frozen=True)
class Upstream:
    service: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.service}:{self.port}"


PROMETHEUS = Upstream("prometheus", 9090)
ALERTMANAGER = Upstream("alertmanager", 9093)
LOKI = Upstream(loki.NAME, loki.HTTP_PORT)
