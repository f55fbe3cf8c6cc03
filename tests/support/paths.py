"""Where the repository, its test fixtures and the shared folder beside it are."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES_DIR = REPO_ROOT / "tests" / "fixtures"
# A real /metrics answer of gateway 0.1.0 (docs/gateway.md).
GATEWAY_METRICS_FIXTURE = FIXTURES_DIR / "gateway-metrics.prom"
# Beside a clone, holding only what the repository must not carry: the Prometheus Operator CRDs.
SHARED_DIR = REPO_ROOT.parent / "shared"
