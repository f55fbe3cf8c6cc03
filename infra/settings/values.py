"""Strict values: one rule per kind of setting, the same for a stack file and for the engine.

The Pulumi engine hands the program every plain config value as the text written in the stack
file (a YAML scalar is read as a string first, quoted or not). So a value is judged by that text
and, when it came from a stack file, by how YAML reads it unquoted: `gatewayTag: 12.1` reaches
the program as '12.1' but any YAML reader sees the number 12.1 (and `1.10` as 1.1), so it is
refused with "quote it". Every setting gets these rules from its type, without a line of its own.
"""

from __future__ import annotations

import json
import math
import posixpath
import re
import types
import typing
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic.fields import FieldInfo

from infra.settings import bounded
from infra.settings.shown import shown
from infra.settings.system_paths import SYSTEM_FOLDERS

# What YAML makes of an unquoted scalar, by tag: the words used in messages.
YAML_KINDS = {
    "tag:yaml.org,2002:int": "number",
    "tag:yaml.org,2002:float": "number",
    "tag:yaml.org,2002:bool": "boolean",
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:timestamp": "date",
}

_INTEGER = re.compile(r"^-?(0|[1-9][0-9]*)$")
_DECIMAL = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?$")
_NOT_A_NUMBER = re.compile(r"^[-+]?\.?(nan|inf|infinity)$", re.IGNORECASE)
_BOOL_WORDS = {"true": True, "false": False}
_BOOL_LOOKALIKES = {"yes", "no", "on", "off", "y", "n", "1", "0", "t", "f"}


@dataclass(frozen=True)
class Entry:
    """One plain config value: its text (what the engine passes), where it was written, how YAML reads it."""

    value: Any  # the text of a scalar; a list or dict for a structured value
    line: int | None = None
    # For an unquoted stack-file scalar that YAML reads as something other than text:
    # 'number', 'boolean', 'null' or 'date'. None for text, quoted values and engine values.
    yaml_kind: str | None = None

    @classmethod
    def of(cls, value: Any) -> Entry:
        """A Python value as YAML would have given it (tests and callers pass plain values)."""
        if isinstance(value, Entry):
            return value
        if isinstance(value, bool):
            return cls("true" if value else "false", yaml_kind="boolean")
        if isinstance(value, int | float):
            return cls(_number_text(value), yaml_kind="number")
        if value is None:
            return cls("", yaml_kind="null")
        if isinstance(value, date | datetime):
            return cls(value.isoformat(), yaml_kind="date")
        return cls(value)

    def shown(self) -> str:
        """The value as the operator wrote it, for messages."""
        if isinstance(self.value, str) and self.yaml_kind is None:
            return shown(self.value)
        if self.yaml_kind == "null":
            return "(empty)"
        return str(self.value)


def _number_text(value: float) -> str:
    if isinstance(value, float) and math.isnan(value):
        return ".nan"
    if isinstance(value, float) and math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    return repr(value)


def kind_of(field: FieldInfo) -> str:
    """'boolean', 'integer', 'number', 'list' or 'text' (strings, choices, addresses)."""
    annotation = field.annotation
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    members = typing.get_args(annotation) if union else (annotation,)
    # Annotated[int, Field(...)] inside a union keeps its wrapper: look at the type it wraps.
    members = tuple(
        typing.get_args(m)[0] if typing.get_origin(m) is typing.Annotated else m for m in members if m is not type(None)
    )
    if members == (bool,):
        return "boolean"
    if members == (int,):
        return "integer"
    if members in ((float,), (int, float), (float, int)):
        return "number"
    if len(members) == 1 and typing.get_origin(members[0]) in (list, tuple, set, frozenset):
        return "list"
    return "text"


def _example(field: FieldInfo, fallback: str) -> str:
    default = field.default
    if isinstance(default, bool) or default is None or not isinstance(default, int | float | str):
        return fallback
    return str(default)


def coerce(entry: Entry, field: FieldInfo, full_key: str) -> Any:
    """The typed value of entry for this field, or ValueError saying what is wrong and what is allowed."""
    kind = kind_of(field)
    value = entry.value
    if kind == "list":
        return _list(value)
    if isinstance(value, dict):
        raise ValueError("must be a single value, not a mapping")
    if isinstance(value, list):
        raise ValueError("must be a single value, not a list")
    text = str(value)
    if kind == "boolean":
        return _boolean(text)
    if kind == "integer":
        return _integer(text, _example(field, "42"))
    if kind == "number":
        return _number(text, _example(field, "2.5"))
    return _text(entry, text, full_key)


def _list(value: Any) -> Any:
    if isinstance(value, str):  # the engine passes a structured value as JSON
        try:
            value = bounded.load_json(value)
        except bounded.HostileInputError as err:
            raise ValueError(f"must be a YAML list; this value {err}") from None
        except json.JSONDecodeError:
            raise ValueError("must be a YAML list") from None
    if not isinstance(value, list):
        raise ValueError("must be a YAML list")
    return [v.value if isinstance(v, Entry) else v for v in value]


def _boolean(text: str) -> bool:
    word = text.lower()
    if word in _BOOL_WORDS:
        return _BOOL_WORDS[word]
    if word in _BOOL_LOOKALIKES:
        raise ValueError(
            f"must be true or false ({text!r} is read as a boolean by some YAML readers and as text by others)"
        )
    raise ValueError("must be true or false")


def _integer(text: str, example: str) -> int:
    if _INTEGER.match(text):
        return int(text)
    if text.lower() in _BOOL_WORDS or text.lower() in {"yes", "no", "on", "off"}:
        raise ValueError(f"a boolean is not a number; give a whole number such as {example}")
    if re.match(r"^-?0[0-9]+$", text):
        raise ValueError(f"no leading zeros (some YAML readers take 0{text.lstrip('-0')} as octal); write {int(text)}")
    if _NOT_A_NUMBER.match(text):
        raise ValueError(f"is not a number (NaN and infinities are refused); give a whole number such as {example}")
    raise ValueError(f"must be a whole number written in digits, such as {example}")


def _number(text: str, example: str) -> float:
    if _NOT_A_NUMBER.match(text):
        raise ValueError(f"is not a number (NaN and infinities are refused); give a number such as {example}")
    if text.lower() in _BOOL_WORDS or text.lower() in {"yes", "no", "on", "off"}:
        raise ValueError(f"a boolean is not a number; give a number such as {example}")
    if _DECIMAL.match(text):
        return float(text)
    raise ValueError(f"must be a number written in digits with an optional decimal point, such as {example}")


def _text(entry: Entry, text: str, full_key: str) -> str:
    if entry.yaml_kind == "null":
        raise ValueError(f'has no value; give one, or write {full_key}: "" for an empty one')
    if entry.yaml_kind is not None:
        why = " (so 1.10 would become 1.1)" if entry.yaml_kind == "number" else ""
        raise ValueError(
            f'YAML reads the unquoted {text} as a {entry.yaml_kind}, not as text{why}; quote it: {full_key}: "{text}"'
        )
    if text.startswith("/"):
        _normalised_path(text)
    return text


def _normalised_path(text: str) -> None:
    """Any text setting written as an absolute path must be in normal form: one spelling per place."""
    parts = text.split("/")[1:]
    if text == "/":
        return
    bad = [p for p in parts if p in ("", ".", "..")]
    if bad:
        suggestion = posixpath.normpath(text)
        if suggestion.startswith("//"):
            suggestion = "/" + suggestion.lstrip("/")
        if suggestion in SYSTEM_FOLDERS:
            # Never suggest what a folder setting then refuses.
            hint = f" (it names {suggestion!r}, a system folder)"
        else:
            hint = "" if ".." in bad else f"; write {suggestion!r}"
        raise ValueError(f"must be a normalised absolute path (no '.', '..', '//' or trailing '/'){hint}")
