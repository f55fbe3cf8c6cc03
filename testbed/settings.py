"""Settings for tests: plain values (and the names of secrets set) through the real validation."""

from __future__ import annotations

from typing import Any

from infra.settings import Settings, validate
from infra.settings.load import RawConfig


def settings_of(
    plain: dict[str, Any] | None = None, secrets: frozenset[str] = frozenset(), stack: str = "test"
) -> Settings:
    return validate(RawConfig(stack, plain or {}, secrets))
