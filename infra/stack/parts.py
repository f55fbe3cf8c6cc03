"""A `Part` is what one builder adds to the stack: services and the volumes they use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from infra.settings import Settings
from infra.stack.spec import Service, Volume


@dataclass(frozen=True)
class Part:
    services: tuple[Service, ...] = ()
    volumes: tuple[Volume, ...] = ()


Builder = Callable[[Settings], Part]
