"""PyYAML's safe load and dump through libyaml (C) where PyYAML has it, else the pure-Python
classes. Same documents, several times faster: `render` and `check` write and read a few dozen."""

from __future__ import annotations

from typing import Any

import yaml

SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SafeDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def safe_load(text: str) -> Any:
    return yaml.load(text, Loader=SafeLoader)


def safe_dump(data: Any, **options: Any) -> str:
    return str(yaml.dump(data, Dumper=SafeDumper, **options))


def safe_dump_all(documents: Any, **options: Any) -> str:
    return str(yaml.dump_all(documents, Dumper=SafeDumper, **options))


class _ReadableDumper(SafeDumper):  # type: ignore[valid-type,misc]
    def ignore_aliases(self, data: Any) -> bool:
        # Repeated blocks are written out in full: anchors and aliases hurt readability.
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    if "<secret:" in value:
        # Filled in at deploy time with a JSON-escaped value: must sit in a double-quoted string.
        style = '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ReadableDumper.add_representer(str, _str)


def dump_readable(document: object) -> str:
    """The YAML every generated configuration and rule file is written in: keys in the order given,
    no anchors, multi-line strings as block scalars, `<secret:KEY>` placeholders double-quoted (the
    deploy fills them with JSON-escaped values). libyaml's emitter where PyYAML has it: same output
    for this data (the committed files are checked byte for byte)."""
    return str(yaml.dump(document, Dumper=_ReadableDumper, sort_keys=False, width=1000, allow_unicode=True))
