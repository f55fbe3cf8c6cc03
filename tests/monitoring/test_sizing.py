"""Prometheus retention against the disk `make bench` measured (infra/monitoring/sizing.py)."""

from __future__ import annotations

import re

import pytest

from infra.monitoring import sizing
from infra.monitoring.notes import monitoring_notes
from infra.settings import load_stack, validate
from infra.settings.load import RawConfig
from testbed.paths import REPO_ROOT

PERFORMANCE = REPO_ROOT / "docs" / "performance.md"


def test_default_retention_keeps_its_time_within_its_size() -> None:
    settings = validate(RawConfig("test", {}, frozenset()))
    assert sizing.retention_notes(settings) == []
    needed = sizing.needed_bytes(sizing.days(settings.prometheus_retention_time), sizing.GATEWAYS_PER_STACK)
    assert sizing.size_bytes(settings.prometheus_retention_size) > needed


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_committed_stacks_keep_their_retention_time(stack: str) -> None:
    assert sizing.retention_notes(load_stack(stack)) == []


def test_a_size_reached_before_the_time_is_noted() -> None:
    # Two years in 50 MB: far more than the measured figures allow.
    settings = validate(
        RawConfig("small", {"prometheusRetentionTime": "730d", "prometheusRetentionSize": "50MB"}, frozenset())
    )
    [note] = [n for n in monitoring_notes(settings) if "prometheusRetentionSize" in n]
    assert "friday:prometheusRetentionSize = 50MB" in note and "friday:prometheusRetentionTime = 730d" in note
    needed = sizing.needed_bytes(730, 1)
    assert needed > 50e6
    # A faster scrape needs proportionally more.
    fast = validate(RawConfig("fast", {"scrapeInterval": "5s"}, frozenset()))
    assert sizing.needed_bytes(15, 1, 5) == pytest.approx(3 * sizing.needed_bytes(15, 1))
    assert sizing.retention_notes(fast) == []


def test_duration_and_size_parsing() -> None:
    assert sizing.days("1w2d") == 9
    assert sizing.days("36h") == 1.5
    assert sizing.size_bytes("512MB") == 512e6
    with pytest.raises(ValueError, match="not a retention size"):
        sizing.size_bytes("5 GB")


def test_sizing_figures_are_the_measured_ones_in_docs() -> None:
    """The constants are the last full `make bench` run's figures, pasted in docs/performance.md."""
    text = PERFORMANCE.read_text(encoding="utf-8")
    per_gateway = re.search(r"\| disk per gateway instance per day \| ([0-9.]+) MB \|", text)
    stack = re.search(r"\| 1 gateway\(s\): disk per day, whole stack \| ([0-9.]+) MB \|", text)
    assert per_gateway and stack, "docs/performance.md lacks the bench table"
    measured_per_gateway = float(per_gateway.group(1)) * 1e6
    assert abs(sizing.BYTES_PER_GATEWAY_DAY - measured_per_gateway) <= 0.01 * measured_per_gateway
    whole_stack = sizing.STACK_BYTES_PER_DAY + sizing.BYTES_PER_GATEWAY_DAY
    assert whole_stack == pytest.approx(float(stack.group(1)) * 1e6, rel=0.01)


def test_deployment_guide_links_the_sizing_table() -> None:
    deployment = (REPO_ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    assert "performance.md#retention-sizing" in deployment
    assert "## Retention sizing" in PERFORMANCE.read_text(encoding="utf-8")
