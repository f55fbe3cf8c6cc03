"""Install mode: Prometheus' memory limit is sized for the whole cluster's series, not 1 GiB."""

from __future__ import annotations

import re
from typing import Any

from infra.monitoring import cluster_sizing
from infra.settings import Settings
from infra.targets import registry
from infra.targets.kubernetes_map import install
from testbed.paths import REPO_ROOT
from testbed.settings import settings_of
from tests.support.kubernetes import KUBE_BASE


def _notes(settings: Settings) -> list[str]:
    """The notes `render` and `check` print for the stack's target (registry: Kubernetes asks cluster_sizing)."""
    return registry.deployed(settings).notes(settings)


def _install(**plain: Any) -> Settings:
    return settings_of(
        {**KUBE_BASE, "kubernetesMonitoringMode": "install", **plain}, frozenset({"anthropicApiKey"}), stack="prod"
    )


def _prometheus_resources(settings: Settings) -> dict[str, Any]:
    values = install.kube_prometheus_stack(settings).values
    resources: dict[str, Any] = values["prometheus"]["prometheusSpec"]["resources"]
    return resources


def test_the_default_limit_holds_the_stack_and_a_clusters_series() -> None:
    settings = _install()
    resources = _prometheus_resources(settings)
    series = cluster_sizing.stack_series() + settings.kubernetes_prometheus_cluster_series
    needed_mib = cluster_sizing.BASE_MIB + series * cluster_sizing.BYTES_PER_SERIES / 2**20
    limit = int(resources["limits"]["memory"].removesuffix("Mi"))
    assert needed_mib <= limit < needed_mib + cluster_sizing.STEP_MIB
    assert limit > 1024, "1 GiB does not hold 200,000 cluster series"
    assert resources["requests"]["memory"] == resources["limits"]["memory"]


def test_the_limit_follows_the_expected_cluster_series_and_the_override() -> None:
    small, large = _install(kubernetesPrometheusClusterSeries=0), _install(kubernetesPrometheusClusterSeries=2_000_000)
    assert _prometheus_resources(small)["limits"]["memory"] == "320Mi"
    assert _prometheus_resources(large)["limits"]["memory"] == "15936Mi"
    fixed = _install(kubernetesPrometheusMemoryMb=4096)
    assert _prometheus_resources(fixed)["limits"]["memory"] == "4096Mi"
    assert not [n for n in _notes(fixed) if "kubernetesPrometheusMemoryMb" in n]


def test_the_stack_series_agree_with_the_bench() -> None:
    assert cluster_sizing.stack_series(1) == 3_755
    assert abs(cluster_sizing.stack_series(10) - 7_535) <= 10


def test_check_notes_an_override_below_the_estimate_and_a_claim_too_small() -> None:
    low = _install(kubernetesPrometheusMemoryMb=1024)
    [memory_note] = [n for n in _notes(low) if "kubernetesPrometheusMemoryMb" in n]
    assert "friday:kubernetesPrometheusMemoryMb = 1024 is below the 1856 MiB" in memory_note
    big = _install(
        kubernetesPrometheusClusterSeries=5_000_000, prometheusRetentionSize="500GB", kubernetesPrometheusStorageGb=50
    )
    [disk_note] = [n for n in _notes(big) if "kubernetesPrometheusStorageGb" in n]
    assert "friday:kubernetesPrometheusStorageGb = 50 holds less than" in disk_note
    assert not [n for n in _notes(_install()) if "kubernetesPrometheus" in n]
    # Not in existing mode: the cluster's own Prometheus is sized by its operator.
    existing = settings_of(
        {**KUBE_BASE, "kubernetesPrometheusMemoryMb": 300}, frozenset({"anthropicApiKey"}), stack="prod"
    )
    assert cluster_sizing.notes(existing) == []


def test_the_documented_table_is_what_the_sizing_computes() -> None:
    doc = (REPO_ROOT / "docs" / "performance.md").read_text(encoding="utf-8")
    [section] = re.findall(r"## Prometheus memory on Kubernetes.*", doc, re.S)
    rows = re.findall(r"^\| ([0-9,]+)(?: \(default\))? \| ([0-9]+) MiB \|$", section, re.M)
    assert len(rows) == 6
    for series, mib in rows:
        assert cluster_sizing.estimated_memory_mib(int(series.replace(",", ""))) == int(mib), series
    assert f"{cluster_sizing.BYTES_PER_SERIES // 1024} KiB per active series" in section
    assert f"{cluster_sizing.BASE_MIB} MiB for the process" in section
    assert f"about {round(cluster_sizing.DISK_BYTES_PER_SERIES_DAY)} bytes per series per day" in section
