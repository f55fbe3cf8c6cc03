"""A time bound on every test here: they drive real servers, and a hang must fail with a traceback."""

from __future__ import annotations

import signal
import traceback
from collections.abc import Iterator
from types import FrameType

import pytest

LIMIT_S = 90


def _expired(signum: int, frame: FrameType | None) -> None:
    stack = "".join(traceback.format_stack(frame)) if frame else ""
    raise TimeoutError(f"test exceeded {LIMIT_S}s; it was here:\n{stack}")


@pytest.fixture(autouse=True)
def time_bound() -> Iterator[None]:
    previous = signal.signal(signal.SIGALRM, _expired)
    signal.alarm(LIMIT_S)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
