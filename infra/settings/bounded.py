"""Bounds on what the tools read from files and the environment, so a hostile input fails fast.

A YAML document can be small on disk and huge once its aliases are expanded (the "billion laughs":
ten anchors, each a list of ten aliases of the one before, is 10^9 nodes from under 1 KB), can nest
deep enough to exhaust Python's stack, or refer to itself. A "file" can be a named pipe that never
ends or a device of endless zeros. Every stack file, `Pulumi.yaml`, render marker and structured value
the engine hands the program goes through here: files are read only when they are regular files of
at most MAX_FILE_BYTES, YAML is composed counting nodes and characters with every alias expanded,
nesting is capped, and a breach is one line naming the file and the bound, never a hang or a traceback.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import yaml

# A stack file with every setting and an encrypted certificate chain is a few tens of KB.
MAX_FILE_BYTES = 1_000_000
# After expanding every alias: nodes (mapping, list, scalar) and characters of scalars.
MAX_NODES = 100_000
MAX_CHARS = 4_000_000
# Levels of nested mappings and lists; the stack file's deepest is config -> key -> list -> item.
MAX_DEPTH = 64


class HostileInputError(ValueError):
    """One line: what was refused and the bound it breaks (the caller adds which file)."""


def read_file(path: Path, what: str = "file") -> bytes:
    """The bytes of a regular file of at most MAX_FILE_BYTES; FileNotFoundError etc. as open raises them.

    A named pipe, a device or a socket is refused before it is opened (opening a pipe blocks until a
    writer comes); the size is checked on the open file, so a file growing meanwhile is still capped.
    """
    info = path.stat()
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(21, "Is a directory", str(path))
    if not stat.S_ISREG(info.st_mode):
        raise HostileInputError(f"{path} is not a regular file (a pipe, device or socket); a {what} must be one")
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as stream:
        data = stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise HostileInputError(f"{path} is larger than {MAX_FILE_BYTES:,} bytes, the most a {what} may be")
    return data


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that weighs every node as it is composed: (nodes, characters) with aliases expanded."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._weights: dict[int, tuple[int, int]] = {}
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            target = self.anchors.get(event.anchor)
            if target is not None and id(target) not in self._weights:
                raise HostileInputError(
                    f"line {event.start_mark.line + 1}: alias *{event.anchor} refers to the node that contains it "
                    "(a recursive alias); YAML aliases here may only repeat a finished node"
                )
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                line = self.peek_event().start_mark.line + 1  # type: ignore[no-untyped-call]
                raise HostileInputError(f"line {line}: nests deeper than {MAX_DEPTH} levels of mappings and lists")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_scalar_node(self, anchor: Any) -> Any:
        return self._weigh(super().compose_scalar_node(anchor))

    def compose_sequence_node(self, anchor: Any) -> Any:
        return self._weigh(super().compose_sequence_node(anchor))

    def compose_mapping_node(self, anchor: Any) -> Any:
        return self._weigh(super().compose_mapping_node(anchor))

    def _weigh(self, node: Any) -> Any:
        if isinstance(node, yaml.ScalarNode):
            nodes, chars = 1, len(node.value)
        else:
            children = node.value if isinstance(node, yaml.SequenceNode) else [n for kv in node.value for n in kv]
            nodes, chars = 1, 0
            for child in children:
                child_nodes, child_chars = self._weights[id(child)]
                nodes, chars = nodes + child_nodes, chars + child_chars
        if nodes > MAX_NODES or chars > MAX_CHARS:
            raise HostileInputError(
                f"line {node.start_mark.line + 1}: expands to more than {MAX_NODES:,} values or {MAX_CHARS:,} "
                "characters once its aliases (*name) are repeated out; write the values out instead"
            )
        self._weights[id(node)] = (nodes, chars)
        return node


def compose(text: str) -> yaml.Node | None:
    """The YAML document's node graph, bounded; yaml.YAMLError for bad YAML, HostileInputError past a bound."""
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_node()
    except RecursionError:  # not expected under MAX_DEPTH; a refusal all the same, never a traceback
        raise HostileInputError(f"nests deeper than {MAX_DEPTH} levels of mappings and lists") from None
    finally:
        loader.dispose()


def load(text: str) -> Any:
    """compose, then the Python values (SafeLoader's types)."""
    node = compose(text)
    if node is None:
        return None
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_document(node)
    finally:
        loader.dispose()


def load_json(text: str) -> Any:
    """A JSON value the engine passes as a string: at most MAX_FILE_BYTES characters and MAX_DEPTH levels."""
    if len(text) > MAX_FILE_BYTES:
        raise HostileInputError(f"is longer than {MAX_FILE_BYTES:,} characters")
    depth = deepest = 0
    in_string = escaped = False
    for char in text:  # brackets outside strings: the nesting json.loads would recurse into
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    if deepest > MAX_DEPTH:
        raise HostileInputError(f"nests deeper than {MAX_DEPTH} levels of lists and objects")
    return json.loads(text)
