"""`render`: write every generated artefact of a stack to a folder, secrets as placeholders.

Needs no Pulumi CLI, Docker or network: the files are what the real tools (promtool,
nginx -t, systemd-analyze...) check in the tests, and what an operator can read.
"""

from __future__ import annotations

import dataclasses
import json
import os
from enum import Enum
from pathlib import Path
from typing import Any

from infra.settings import Settings, bounded
from infra.settings.secrets import SECRETS, spec_of
from infra.stack import backup_offsite, build_stack
from infra.stack.spec import ScheduledTask, SecretRef, Service
from infra.targets import registry

MARKER = ".friday-render"


def placeholder(ref: SecretRef) -> str:
    return spec_of(ref.key).placeholder()


def _plain(value: Any) -> Any:
    """Enums by their value, recursively (dataclasses.asdict keeps them as enum members)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def service_document(service: Service | ScheduledTask) -> dict[str, Any]:
    """A service or task as JSON-friendly data: secrets replaced, file contents by reference."""
    doc: dict[str, Any] = _plain(dataclasses.asdict(service))
    doc["image"] = service.image.ref
    doc["env"] = {k: placeholder(v) if isinstance(v, SecretRef) else v for k, v in service.env.items()}
    doc["files"] = [
        {"path": f.path, "mode": f.mode, "rendered": _file_rel(service.name, f.path)} for f in service.files
    ]
    if isinstance(service, Service):
        doc["secret_files"] = [
            {"path": f.path, "mode": f.mode, "content": placeholder(f.secret)} for f in service.secret_files
        ]
    return doc


def _file_rel(name: str, path: str) -> str:
    return f"files/{name}{path}"


def artefacts(settings: Settings) -> dict[str, str]:
    """Every rendered file of the stack: {relative path: content}."""
    spec = build_stack(settings)
    out: dict[str, str] = {}
    summary = {
        "stack": settings.stack,
        "settings": settings.model_dump(mode="json", by_alias=True),
        "secrets": {
            s.key: (
                "set (encrypted in the stack file)"
                if s.key in settings.secrets_set
                else "generated at deploy time"
                if s.generate_length
                else "not set"
            )
            for s in SECRETS
        },
        "services": [s.name for s in spec.services],
        "tasks": [t.name for t in spec.tasks],
        "volumes": [dataclasses.asdict(v) for v in spec.volumes],
    }
    out["stack.json"] = json.dumps(summary, indent=2, sort_keys=True) + "\n"
    for kind, items in (("services", spec.services), ("tasks", spec.tasks)):
        for item in items:
            out[f"{kind}/{item.name}.json"] = json.dumps(service_document(item), indent=2, sort_keys=True) + "\n"
            for f in item.files:
                out[_file_rel(item.name, f.path)] = f.content
    # The off-host backup image's Dockerfile (any target's task runs it), when off-host copies are on.
    out.update(backup_offsite.produce(settings, spec))
    # Each target's own artefacts: the deployed one's, and bare metal's (rendered for every stack).
    for target in registry.rendered(settings):
        for rel, content in target.plan(settings, spec).items():
            if rel in out:
                raise AssertionError(f"two producers write {rel}")
            out[rel] = content
    return out


class OutputError(Exception):
    """The output folder cannot be used; one line naming the path and the problem."""


def write(settings: Settings, out_dir: Path) -> list[Path]:
    """Write the artefacts into out_dir, replacing only what an earlier render wrote there, and list them."""
    files = artefacts(settings)
    try:
        previous = _previous_render(out_dir)
        for rel in previous:
            (out_dir / rel).unlink(missing_ok=True)
        _remove_empty_folders(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for rel, content in sorted(files.items()):
            path = out_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
            written.append(path)
        listing = "".join(f"{rel}\n" for rel in sorted(files))
        (out_dir / MARKER).write_text(f"{MARKER_HEADER} {settings.stack}\n{listing}", encoding="utf-8")
    except OSError as err:
        where = err.filename or out_dir
        raise OutputError(f"cannot write {where}: {err.strerror or err}") from None
    return written


# The marker's first line; the lines after it are the files render wrote, relative to the folder.
MARKER_HEADER = "rendered stack"


def _previous_render(out_dir: Path) -> list[str]:
    """The files an earlier render wrote here; refuses a folder holding anything else.

    The marker is checked whole before anything is deleted: a line naming a path outside the folder
    (absolute, with '..', through a symbolic link), an unreadable or oversized marker, stops the render
    with nothing deleted.
    """
    for parent in [out_dir, *out_dir.parents]:
        if parent.exists() and not parent.is_dir():
            what = "is a file" if parent == out_dir else f"is under {parent}, which is a file"
            raise OutputError(f"output folder {out_dir} {what}; choose a folder")
        if parent.exists():
            break
    if not out_dir.exists() or not any(out_dir.iterdir()):
        return []
    marker = out_dir / MARKER
    if marker.is_symlink() or not marker.is_file():
        raise OutputError(f"{out_dir} is not empty and was not written by render; choose an empty or new folder")
    listed = _marker_entries(out_dir, marker)
    wanted = set(listed)
    for path in sorted(out_dir.rglob("*")):
        rel = path.relative_to(out_dir).as_posix()
        if path.is_dir() and not path.is_symlink():
            continue
        if rel != MARKER and rel not in wanted:
            raise OutputError(
                f"{out_dir} holds {rel}, which render did not write; move it away (render never deletes a file "
                "it did not write)"
            )
    return listed


# A render writes a few hundred files; a marker listing more was not written by render.
MAX_MARKER_ENTRIES = 10_000


def _marker_entries(out_dir: Path, marker: Path) -> list[str]:
    nothing = "nothing was deleted; remove the marker's bad lines or choose an empty or new folder"
    try:
        text = bounded.read_file(marker, "render marker").decode("utf-8")
    except bounded.HostileInputError as err:
        raise OutputError(f"render marker {err}; {nothing}") from None
    except UnicodeDecodeError as err:
        raise OutputError(f"{marker} is not UTF-8 text (byte {err.start}), so not a render marker; {nothing}") from None
    # Render writes '\n' line ends only; str.splitlines would also split on other characters.
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or not lines[0].startswith(MARKER_HEADER):
        raise OutputError(f"{marker} is not a render marker; choose an empty or new folder")
    entries = lines[1:]
    if len(entries) > MAX_MARKER_ENTRIES:
        raise OutputError(
            f"{marker} lists {len(entries):,} files, more than the {MAX_MARKER_ENTRIES:,} a render writes; {nothing}"
        )
    for rel in entries:
        why = _outside(out_dir, rel)
        if why:
            shown = ascii(rel if len(rel) <= 120 else rel[:120] + "...")
            raise OutputError(
                f"{marker} lists {shown}, {why}; render deletes only files it wrote inside {out_dir}: {nothing}"
            )
    return sorted(set(entries))


def _outside(out_dir: Path, rel: str) -> str | None:
    """Why rel, a line of the marker, is not a file inside out_dir that render may delete; None when it is."""
    parts = rel.split("/")
    refusals = (
        (rel == "", "an empty line (no file)"),
        (any(ord(c) < 0x20 or ord(c) == 0x7F for c in rel), "a path with control characters (NUL, tab...)"),
        (rel.startswith("/"), "an absolute path, outside the folder"),
        (".." in parts, "a path climbing out of the folder with '..'"),
        ("" in parts or "." in parts, "not a plain relative path as render writes them (empty or '.' parts)"),
        (rel == MARKER, "the marker itself"),
    )
    for refused, why in refusals:
        if refused:
            return why
    for depth in range(1, len(parts)):
        if out_dir.joinpath(*parts[:depth]).is_symlink():
            return f"a path through the symbolic link {'/'.join(parts[:depth])}, which may point outside the folder"
    path = out_dir / rel
    return "a folder, not a file" if path.is_dir() and not path.is_symlink() else None


def _remove_empty_folders(out_dir: Path) -> None:
    """Empty folders under out_dir, deepest first; never enters a symbolic link."""
    if not out_dir.is_dir() or out_dir.is_symlink():
        return
    for folder, _, _ in os.walk(out_dir, topdown=False, followlinks=False):
        path = Path(folder)
        if path != out_dir and not path.is_symlink() and not any(path.iterdir()):
            path.rmdir()
