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
