"""Where the repository and its test fixtures are."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES_DIR = REPO_ROOT / "tests" / "fixtures"
# A real /metrics answer of gateway 0.1.0 (docs/gateway.md).
GATEWAY_METRICS_FIXTURE = FIXTURES_DIR / "gateway-metrics.prom"
