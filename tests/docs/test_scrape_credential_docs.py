"""No doc, command or probe sends or documents an API key as a Bearer token (gateway 0.1.0 checks
Bearer as an expiring JWT only and refuses an API key there with 401; docs/gateway.md)."""

from __future__ import annotations

import re

import pytest

from testbed.paths import REPO_ROOT

FILES = ["README.md", *sorted(str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / "docs").glob("*.md"))]
FILES += ["docs/openapi.yaml", "tests/infra/probe.py"]
# A line that pairs Bearer with the API key / metrics token...
KEY_AS_BEARER = re.compile(r"bearer.{0,60}(\$TOKEN|api.?key|metricsToken|token\b)|(\$TOKEN|token).{0,20}bearer", re.I)
# ...is fine only where it says that this is refused.
REFUSED = re.compile(r"refuse|never|only|not |401|JWT", re.I)


def offending(text: str) -> list[str]:
    return [line for line in text.splitlines() if KEY_AS_BEARER.search(line) and not REFUSED.search(line)]


@pytest.mark.parametrize("rel", FILES)
def test_no_api_key_as_bearer(rel: str) -> None:
    assert offending((REPO_ROOT / rel).read_text(encoding="utf-8")) == []


def test_the_check_catches_the_old_wording() -> None:
    assert offending('curl -s -H "Authorization: Bearer $TOKEN" http://127.0.0.1:18789/metrics')
    assert offending('    headers["Authorization"] = "Bearer " + token')
    assert offending("gateway with a `ServiceMonitor` that sends the `metricsToken` admin key as a bearer token from a")
    assert not offending('curl -s -H "X-API-Key: $TOKEN" http://127.0.0.1:18789/metrics')
