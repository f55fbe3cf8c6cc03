"""Options of the host suite (tests/infra) live here: pytest reads options only from top conftests."""

from __future__ import annotations

import pytest

from tests.infra.options import add_options

HOST_SUITE = "tests/infra/"


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
