"""Prometheus' memory limit in Kubernetes install mode: the stack's series plus the cluster's.

In install mode the stack's Prometheus (kube-prometheus-stack) scrapes the whole cluster: the
kubelets and cAdvisor, kube-state-metrics, the API server, and any other ServiceMonitor it selects.
Its memory grows with the active series it holds in its head block, so its limit is sized from:

- the stack's own series, as `make bench` counted them (docs/performance.md: 3,755 series with one
  gateway, 7,535 with ten, so about 420 per gateway instance and the rest for the stack);
- `kubernetesPrometheusClusterSeries`, the operator's estimate of the rest of the cluster (read the
  real figure off a running Prometheus: `prometheus_tsdb_head_series`);
- a planning figure per active series (head series, the chunks of the last two to three hours at a
  15 s interval, the postings index, and the Go runtime's headroom before it collects garbage), and
  a base for the process, rule evaluation and queries. The per-series figure is a planning
  assumption, not a measurement of this repository (the bench does not run an ingesting Prometheus);
  check it against `process_resident_memory_bytes / prometheus_tsdb_head_series` once deployed.

`kubernetesPrometheusMemoryMb` overrides the result; `check` notes an override below the estimate.
The disk of the same series is noted too: the claim should hold the retention the settings ask for.
"""

from __future__ import annotations

import math

from infra import PROJECT
from infra.monitoring import sizing
from infra.settings import Settings

# Measured by `make bench` (docs/performance.md, TSDB table).
BENCH_SERIES_ONE_GATEWAY = 3_755
BENCH_SERIES_TEN_GATEWAYS = 7_535
SERIES_PER_GATEWAY = math.ceil((BENCH_SERIES_TEN_GATEWAYS - BENCH_SERIES_ONE_GATEWAY) / 9)
STACK_SERIES = BENCH_SERIES_ONE_GATEWAY - SERIES_PER_GATEWAY
# Planning figures (see the module docstring).
BYTES_PER_SERIES = 8 * 1024
BASE_MIB = 256
STEP_MIB = 64
MIB = 1024 * 1024
# Disk: what the bench's stack series took per series and day at 15 s (blocks only).
DISK_BYTES_PER_SERIES_DAY = (sizing.STACK_BYTES_PER_DAY + sizing.BYTES_PER_GATEWAY_DAY) / BENCH_SERIES_ONE_GATEWAY


def stack_series(gateways: int = sizing.GATEWAYS_PER_STACK) -> int:
    return STACK_SERIES + gateways * SERIES_PER_GATEWAY


def estimated_memory_mib(cluster_series: int, gateways: int = sizing.GATEWAYS_PER_STACK) -> int:
    """The limit for that many active series, rounded up to 64 MiB."""
    needed = BASE_MIB + (stack_series(gateways) + cluster_series) * BYTES_PER_SERIES / MIB
    return math.ceil(needed / STEP_MIB) * STEP_MIB


def memory_mib(settings: Settings) -> int:
    """Prometheus' memory limit in install mode: the override, else the estimate."""
    return settings.kubernetes_prometheus_memory_mb or estimated_memory_mib(
        settings.kubernetes_prometheus_cluster_series
    )


def needed_disk_bytes(settings: Settings) -> float:
    """The claim's need: every series kept for the retention time (at most the retention size), with
    the same headroom as infra.monitoring.sizing."""
    scrape_s = sizing.days(settings.scrape_interval) * 86400
    series = stack_series() + settings.kubernetes_prometheus_cluster_series
    per_day = series * DISK_BYTES_PER_SERIES_DAY * sizing.MEASURED_SCRAPE_INTERVAL_S / scrape_s
    blocks = min(
        per_day * sizing.days(settings.prometheus_retention_time), sizing.size_bytes(settings.prometheus_retention_size)
    )
    return blocks * sizing.HEADROOM


def notes(settings: Settings) -> list[str]:
    """For the Kubernetes target (infra/targets/registry.py asks): Prometheus' sizing in install mode."""
    if settings.kubernetes_monitoring_mode != "install":
        return []
    out = []
    estimate = estimated_memory_mib(settings.kubernetes_prometheus_cluster_series)
    if settings.kubernetes_prometheus_memory_mb and settings.kubernetes_prometheus_memory_mb < estimate:
        out.append(
            f"{PROJECT}:kubernetesPrometheusMemoryMb = {settings.kubernetes_prometheus_memory_mb} is below the "
            f"{estimate} MiB estimated for {settings.kubernetes_prometheus_cluster_series} cluster series "
            f"(kubernetesPrometheusClusterSeries) plus the stack's: Prometheus may be killed for memory "
            "(docs/performance.md, Prometheus memory); set 0 to use the estimate"
        )
    needed = needed_disk_bytes(settings)
    claim = settings.kubernetes_prometheus_storage_gb * 1024**3
    if claim < needed:
        out.append(
            f"{PROJECT}:kubernetesPrometheusStorageGb = {settings.kubernetes_prometheus_storage_gb} holds less than "
            f"the {math.ceil(needed / 1024**3)} GiB that {settings.prometheus_retention_time} of "
            f"{stack_series() + settings.kubernetes_prometheus_cluster_series} series need (up to "
            f"prometheusRetentionSize = {settings.prometheus_retention_size}, with headroom): the volume fills up "
            "before the retention deletes anything; grow the claim or lower prometheusRetentionSize"
        )
    return out
