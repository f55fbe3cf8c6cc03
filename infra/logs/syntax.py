"""Just enough of the Alloy configuration syntax (formerly River) to write configs from data.

A config is a sequence of blocks (`loki.write "default" { ... }`) holding attributes
(`url = "..."`) and nested blocks. Values are strings, numbers, booleans, lists, objects
and references to other components' exports (`loki.write.default.receiver`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_REF = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
INDENT = "  "


@dataclass(frozen=True)
class Ref:
    """A reference to an exported value, written bare: `discovery.docker.gateway.targets`."""

    path: str

    def __post_init__(self) -> None:
        if not _REF.match(self.path):
            raise ValueError(f"not a reference: {self.path!r}")


@dataclass(frozen=True)
class RawString:
    """A string written between backticks: no escapes, so Go templates stay readable."""

    text: str

    def __post_init__(self) -> None:
        if "`" in self.text:
            raise ValueError("a raw string cannot contain a backtick")


Value = str | int | float | bool | Ref | RawString | Sequence["Value"] | Mapping[str, "Value"]


@dataclass(frozen=True)
class Attr:
    name: str
    value: Value


@dataclass(frozen=True)
class Block:
    """`name "label" { body }`; name is dotted for components (`loki.source.docker`)."""

    name: str
    label: str | None = None
    body: tuple[Attr | Block, ...] = ()

    def __post_init__(self) -> None:
        if not all(_IDENT.match(part) for part in self.name.split(".")):
            raise ValueError(f"not a block name: {self.name!r}")

    @property
    def ref(self) -> str:
        """How other blocks refer to this component: `name.label`."""
        return f"{self.name}.{self.label}" if self.label else self.name


def block(kind: str, label: str | None = None, /, *body: Attr | Block, **attrs: Value) -> Block:
    """Shorthand: keyword arguments become attributes, written before nested blocks."""
    return Block(kind, label, tuple(Attr(k, v) for k, v in attrs.items()) + body)


def string(text: str) -> str:
    # JSON string escapes (\" \\ \n \uXXXX) are a subset of Alloy's.
    return json.dumps(text)


def _key(key: str) -> str:
    return key if _IDENT.match(key) else string(key)


def value(v: Value, depth: int = 0) -> str:  # noqa: PLR0911 (one return per kind of value)
    pad = INDENT * (depth + 1)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return string(v)
    if isinstance(v, Ref):
        return v.path
    if isinstance(v, RawString):
        return f"`{v.text}`"
    if isinstance(v, Mapping):
        if not v:
            return "{}"
        items = [f"{pad}{_key(k)} = {value(x, depth + 1)},\n" for k, x in v.items()]
        return "{\n" + "".join(items) + INDENT * depth + "}"
    if not v:
        return "[]"
    if all(isinstance(x, str | Ref | int | float) for x in v):
        return "[" + ", ".join(value(x, depth) for x in v) + "]"
    return "[\n" + "".join(f"{pad}{value(x, depth + 1)},\n" for x in v) + INDENT * depth + "]"


def _lines(b: Block, depth: int) -> Iterable[str]:
    pad = INDENT * depth
    head = f"{b.name} {string(b.label)}" if b.label else b.name
    yield f"{pad}{head} {{\n"
    for item in b.body:
        if isinstance(item, Block):
            yield from _lines(item, depth + 1)
        else:
            yield f"{pad}{INDENT}{item.name} = {value(item.value, depth + 1)}\n"
    yield f"{pad}}}\n"


def render(blocks: Iterable[Block], header: str = "") -> str:
    """The config file text: an optional `//` comment header, then blocks separated by blank lines."""
    parts = ["".join(f"// {line}".rstrip() + "\n" for line in header.splitlines())] if header else []
    parts += ["".join(_lines(b, 0)) for b in blocks]
    return "\n".join(parts)
