"""What Prometheus scrapes, as plain records: one per service that declares metrics.

The records come from the stack (infra/stack/prometheus.py: every service's `metrics` on one of
its named ports); this package only turns them into configuration. Addresses are `service:port`
on the stack's network (the service name is its network alias on Docker and its Service name on
Kubernetes).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ScrapeTarget:
    job: str  # the service name; alerts and dashboards select on job
    address: str
    metrics_path: str = "/metrics"
    scheme: str = "http"
    # Static target labels besides `service` and `environment` (e.g. `instance` when Prometheus
    # scrapes a proxy on the target's behalf).
    labels: dict[str, str] = field(default_factory=dict)
    # A blackbox probe (infra/stack/blackbox.py): Prometheus asks the exporter at `address` with
    # these URL parameters (the module); the static target is `probe_target`, which relabelling
    # moves into the `target` parameter and the `instance` label.
    params: dict[str, list[str]] = field(default_factory=dict)
    probe_target: str | None = None
    # Per-job interval and timeout where they differ from the global scrape settings.
    interval: str | None = None
    timeout: str | None = None
    # HTTP basic auth Prometheus sends (`username`, `password_file`), when the target wants it.
    basic_auth: dict[str, str] | None = None
