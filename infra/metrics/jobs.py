"""Scrape job names that alerts, dashboards and the exporter list select on.

Prometheus names each job after the service that serves it (infra/stack/prometheus.py), so the
stack's services take these names from here: the job and the service cannot drift apart.
"""

from __future__ import annotations

GATEWAY = "gateway"
BACKUP = "backup"
