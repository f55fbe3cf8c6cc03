"""Where services reach the monitoring services on the stack network (service name and port).

The Prometheus, Alertmanager and Loki services are built by their own modules; until those
land, their network names and ports are recorded here, the one place to switch to the
modules' constants then.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Upstream:
    service: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.service}:{self.port}"


PROMETHEUS = Upstream("prometheus", 9090)
ALERTMANAGER = Upstream("alertmanager", 9093)
LOKI = Upstream("loki", 3100)
