"""Fixtures of the host suite. Run it with testinfra against a host:

pytest tests/infra --hosts=ssh://admin@gw1 --friday-mode baremetal --friday-stack prod ...
"""

from __future__ import annotations

import pytest

from tests.infra.options import HostConfig, resolve


@pytest.fixture(scope="session")
def friday(pytestconfig: pytest.Config) -> HostConfig:
    return resolve(pytestconfig)
