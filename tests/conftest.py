"""Options of the host suite (tests/infra) live here: pytest reads options only from top conftests."""

from __future__ import annotations

import os

import pytest

from testbed.processes import PORT_RANGE_ENV
from tests.infra.options import add_options

HOST_SUITE = "tests/infra/"
# Worker port ranges share these: above the engine suite's 20000-24999 (scripts/test.sh), below the
# kernel's ephemeral range (32768 and up), so no worker is handed a port the kernel gives anyone else.
WORKER_PORTS_LOW, WORKER_PORTS_HIGH = 25000, 32767


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The host suite runs in one mode: checks of the other mode are deselected (and counted), not skipped."""
    mode = config.getoption("friday_mode")
    keep, drop = [], []
    for item in items:
        # The file part of the node id only: a parameter id may name a host-suite file (tests/infra/probe.py).
        in_suite = item.nodeid.split("::", 1)[0].replace("\\", "/").startswith(HOST_SUITE)
        if not in_suite:
            keep.append(item)
            continue
        modes = {m.name for m in item.iter_markers() if m.name in ("baremetal", "docker")}
        if mode is None or (modes and mode not in modes):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            why = "no --friday-mode given" if mode is None else f"not part of --friday-mode {mode}"
            reporter.write_line(f"tests/infra: {len(drop)} host checks deselected ({why})")


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist each worker process gets a port range of its own (testbed/processes.py:
    free_port), so two workers are never handed the same port by the kernel."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if worker.startswith("gw") and worker[2:].isdigit():
        each = (WORKER_PORTS_HIGH - WORKER_PORTS_LOW + 1) // count
        low = WORKER_PORTS_LOW + int(worker[2:]) * each
        os.environ[PORT_RANGE_ENV] = f"{low}-{low + each - 1}"
