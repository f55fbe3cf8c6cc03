"""A `Part` is what one builder adds to the stack: services, scheduled tasks and their volumes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from infra.settings import Settings
from infra.stack.spec import ScheduledTask, Service, Volume


@dataclass(frozen=True)
class Part:
    services: tuple[Service, ...] = ()
    volumes: tuple[Volume, ...] = ()
    tasks: tuple[ScheduledTask, ...] = ()


Builder = Callable[[Settings], Part]
