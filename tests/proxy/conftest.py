"""A tighter time bound on every test here (pytest-timeout): they drive real servers, and a hang
must fail with a traceback long before the suite-wide backstop in pyproject.toml. A test with its
own timeout marker keeps it (one that may have to build the real gateway first)."""

from __future__ import annotations

import pytest

LIMIT_S = 90


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/proxy/" in item.nodeid.replace("\\", "/") and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(LIMIT_S))
