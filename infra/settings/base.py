"""Shared pydantic configuration and field types for every settings group."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

from infra.settings import grammar


class SettingsGroup(BaseModel):
    """Base of each settings group: camelCase keys, unknown keys rejected, immutable."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=False,
        frozen=True,
        strict=False,
    )


_SIZE = re.compile(r"^[1-9][0-9]*[kmg]$")


def _image_repo(value: str) -> str:
    problem = grammar.image_repository_problem(value)
    if problem:
        raise ValueError(problem)
    return value


# Tags that registries move to new releases: a deploy would change under the same settings.
MOVING_TAGS = ("latest", "stable", "edge", "nightly", "mainline")


def _image_tag(value: str) -> str:
    tag, at, _ = value.partition("@")
    if tag.lower() in MOVING_TAGS and not at:
        raise ValueError(
            f"{value!r} is not a pinned tag (it moves with every release; refused in any letter case: "
            f"{', '.join(MOVING_TAGS)}); name a version such as '0.1.0'"
        )
    problem = grammar.image_tag_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _size(value: str) -> str:
    if not _SIZE.match(value):
        raise ValueError("must be a size such as '10m', '512k' or '1g'")
    return value


def duration_seconds(value: str) -> float:
    """Seconds in a (validated) Prometheus duration such as '1h30m'."""
    return grammar.seconds(value)


ImageRepo = Annotated[str, AfterValidator(_image_repo)]
ImageTag = Annotated[str, AfterValidator(_image_tag)]
DockerSize = Annotated[str, AfterValidator(_size)]
# Durations as Prometheus, Alertmanager and Loki parse them (infra/settings/grammar.py).
Duration = grammar.Duration
PositiveDuration = grammar.PositiveDuration
Port = Annotated[int, Field(ge=1, le=65535)]


def _not_root(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool) and value == 0:
        raise ValueError(
            "0 is root's id: the service would run as root (or with root's group); give a non-root id from 1 "
            "to 2147483647, such as 1000"
        )
    return value


# Non-root ids only: 0 would run the service as root.
NonRootId = Annotated[int, Field(ge=1, le=2**31 - 1), BeforeValidator(_not_root)]
