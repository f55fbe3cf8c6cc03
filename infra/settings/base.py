"""Shared pydantic configuration and field types for every settings group."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel


class SettingsGroup(BaseModel):
    """Base of each settings group: camelCase keys, unknown keys rejected, immutable."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=False,
        frozen=True,
        strict=False,
    )


_REPO = re.compile(r"^[a-z0-9]+([._/-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_SIZE = re.compile(r"^[1-9][0-9]*[kmg]$")
_DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")


def _image_repo(value: str) -> str:
    if ":" in value.rsplit("/", 1)[-1] or "@" in value:
        raise ValueError("give the repository only, without ':tag' or '@digest' (the tag is its own setting)")
    if not _REPO.match(value):
        raise ValueError("must be an image repository such as 'ghcr.io/owner/name'")
    return value


# Tags that registries move to new releases: a deploy would change under the same settings.
MOVING_TAGS = ("latest", "stable", "edge", "nightly", "mainline")


def _image_tag(value: str) -> str:
    if value.lower() in MOVING_TAGS:
        raise ValueError(
            f"{value!r} is not a pinned tag (it moves with every release; refused in any letter case: "
            f"{', '.join(MOVING_TAGS)}); name a version such as '0.1.0'"
        )
    if not _TAG.match(value):
        raise ValueError("must be a Docker tag: letters, digits, '_', '.', '-', at most 128 characters")
    return value


def _size(value: str) -> str:
    if not _SIZE.match(value):
        raise ValueError("must be a size such as '10m', '512k' or '1g'")
    return value


def _duration(value: str) -> str:
    if not _DURATION.match(value):
        raise ValueError("must be a Prometheus duration such as '15d', '12h' or '1h30m'")
    return value


def _positive_duration(value: str) -> str:
    # Prometheus silently replaces a zero interval by its default (1m); Alertmanager refuses one.
    if not any(int(n) for n in re.findall(r"[0-9]+", value)):
        raise ValueError("must be more than zero, such as '15s' or '1m'")
    return value


_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def duration_seconds(value: str) -> float:
    """Seconds in a (validated) Prometheus duration such as '1h30m'."""
    return sum(int(n) * _UNIT_SECONDS[u] for n, u in re.findall(r"([0-9]+)(ms|s|m|h|d|w|y)", value))


ImageRepo = Annotated[str, AfterValidator(_image_repo)]
ImageTag = Annotated[str, AfterValidator(_image_tag)]
DockerSize = Annotated[str, AfterValidator(_size)]
Duration = Annotated[str, AfterValidator(_duration)]
PositiveDuration = Annotated[str, AfterValidator(_duration), AfterValidator(_positive_duration)]
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
