"""The gateway answers /health and /metrics, and /metrics has every family the catalog says it exposes."""

from __future__ import annotations

import re
from typing import Any

from infra.metrics import catalog
from infra.stack import gateway
from tests.infra import probe
from tests.infra.options import HostConfig

TYPE_LINE = re.compile(r"^# TYPE (\S+) (\S+)$", re.MULTILINE)


def test_health_answers_ok(host: Any, friday: HostConfig) -> None:
    resp = probe.get(host, f"{friday.gateway_url}{gateway.HEALTH_PATH}")
    assert resp.status == 200, resp.body[:300]
    assert resp.json()["status"] == "ok"


def test_metrics_has_every_exposed_family(host: Any, friday: HostConfig) -> None:
    resp = probe.get(
        host, f"{friday.gateway_url}{gateway.METRICS_PATH}", token_file=friday.token_file, token_env=friday.token_env
    )
    assert resp.status == 200, f"/metrics answered {resp.status}" + (
        "" if friday.has_token else " (gateway 0.1.0 needs an admin key: --friday-metrics-token-file)"
    )
    assert resp.content_type.startswith("text/plain")
    families = dict(TYPE_LINE.findall(resp.body))
    missing = [m.name for m in catalog.exposed() if m.name not in families]
    assert missing == [], f"/metrics lacks {missing}"
    wrong = [f"{m.name}: {families[m.name]} != {m.type}" for m in catalog.exposed() if families[m.name] != m.type]
    assert wrong == []


def test_metrics_refuses_a_request_without_the_key(host: Any, friday: HostConfig) -> None:
    """With a key configured, the key is what opens /metrics (gateway 0.1.0 answers 401 without)."""
    resp = probe.get(host, f"{friday.gateway_url}{gateway.METRICS_PATH}")
    if friday.has_token:
        assert resp.status == 401
    else:
        # No key configured: the gateway must be a version whose /metrics is public.
        assert resp.status == 200
