"""free_port never hands out the same port twice in one process, even when the kernel offers it again."""

from __future__ import annotations

import os
import socket
from typing import Any

import pytest

from testbed import processes


def test_free_ports_are_distinct() -> None:
    ports = [processes.free_port() for _ in range(200)]
    assert len(set(ports)) == len(ports)


def test_a_port_offered_again_by_the_kernel_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine suite once got one port for two settings: the kernel re-offered a just-released port."""
    monkeypatch.delenv(processes.PORT_RANGE_ENV, raising=False)  # the kernel's offers, not a worker's range
    first = processes.free_port()
    fresh = next(port for port in range(40000, 60000) if port not in processes._HANDED_OUT)
    offers = iter([first, first, fresh])

    class Kernel(socket.socket):
        def getsockname(self) -> Any:
            return ("127.0.0.1", next(offers))

    monkeypatch.setattr(socket, "socket", Kernel)
    assert processes.free_port() == fresh


def test_a_port_range_keeps_a_suite_to_its_own_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    """make test runs the engine suite beside the others with FRIDAY_PORT_RANGE: every port it is
    handed lies in that range, none twice, and a port someone listens on is skipped."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = int(taken.getsockname()[1])
        low = busy - 10 if busy > 20000 else busy
        monkeypatch.setenv(processes.PORT_RANGE_ENV, f"{low}-{low + 20}")
        ports = [processes.free_port() for _ in range(15)]
    assert len(set(ports)) == len(ports)
    assert all(low <= p <= low + 20 for p in ports)
    assert busy not in ports


@pytest.mark.parametrize("text", ["20000", "20000-19999", "80-1000", "a-b", "20000-70000"])
def test_a_bad_port_range_is_refused(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setenv(processes.PORT_RANGE_ENV, text)
    with pytest.raises(RuntimeError, match="expected LOW-HIGH"):
        processes.free_port()


def test_xdist_workers_get_disjoint_ranges_below_the_ephemeral_range(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests import conftest

    # pytest_configure sets the variable itself: monkeypatch restores this process's value afterwards.
    monkeypatch.setenv(processes.PORT_RANGE_ENV, os.environ.get(processes.PORT_RANGE_ENV, ""))
    ranges = []
    for worker in ("gw0", "gw1", "gw2"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "3")
        conftest.pytest_configure(pytest.Config.__new__(pytest.Config))
        low, high = map(int, os.environ[processes.PORT_RANGE_ENV].split("-"))
        ranges.append(range(low, high + 1))
    assert all(r.start >= 20000 and r.stop <= 32768 for r in ranges)  # not the engine's, not the kernel's
    assert ranges[0].start >= 25000
    assert not set(ranges[0]) & set(ranges[1]) and not set(ranges[1]) & set(ranges[2])
