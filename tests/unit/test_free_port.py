"""free_port never hands out the same port twice in one process, even when the kernel offers it again."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from tests.support import processes


def test_free_ports_are_distinct() -> None:
    ports = [processes.free_port() for _ in range(200)]
    assert len(set(ports)) == len(ports)


def test_a_port_offered_again_by_the_kernel_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine suite once got one port for two settings: the kernel re-offered a just-released port."""
    first = processes.free_port()
    fresh = next(port for port in range(40000, 60000) if port not in processes._HANDED_OUT)
    offers = iter([first, first, fresh])

    class Kernel(socket.socket):
        def getsockname(self) -> Any:
            return ("127.0.0.1", next(offers))

    monkeypatch.setattr(socket, "socket", Kernel)
    assert processes.free_port() == fresh
