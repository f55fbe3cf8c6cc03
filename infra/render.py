"""`render`: write every generated artefact of a stack to a folder, secrets as placeholders.

Needs no Pulumi CLI, Docker or network: the files are what the real tools (promtool,
nginx -t, systemd-analyze...) check in the tests, and what an operator can read.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any

from infra.host import artefacts as host_artefacts
from infra.host import backup as host_backup
from infra.host import metrics_auth as host_metrics_auth
from infra.host import prometheus as host_prometheus
from infra.settings import Settings
from infra.settings.secrets import SECRETS, SECRETS_BY_KEY
from infra.stack import build_stack
from infra.stack.spec import ScheduledTask, SecretRef, Service, StackSpec
from infra.targets import docker_map
from infra.targets.kubernetes_map import manifests as kubernetes_manifests

MARKER = ".friday-render"

# Extra artefacts that are not files inside a service (rules, dashboards, host units...):
# each producer returns {relative path: content}. Later parts append to this tuple.
Producer = Callable[[Settings, StackSpec], dict[str, str]]
PRODUCERS: tuple[Producer, ...] = (
    host_backup.produce,
    kubernetes_manifests.produce,
    host_artefacts.produce,
    host_prometheus.produce,
    host_metrics_auth.produce,
)


def placeholder(ref: SecretRef) -> str:
    return SECRETS_BY_KEY[ref.key].placeholder()


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
    if settings.target == "docker":
        policy = docker_map.policy(settings)
        for service in spec.long_running():
            plan = dataclasses.asdict(docker_map.container(spec, service, policy))
            out[f"docker/{service.name}.json"] = json.dumps(plan, indent=2, sort_keys=True) + "\n"
    for produce in PRODUCERS:
        for rel, content in produce(settings, spec).items():
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
    """The files an earlier render wrote here; refuses a folder holding anything else."""
    for parent in [out_dir, *out_dir.parents]:
        if parent.exists() and not parent.is_dir():
            what = "is a file" if parent == out_dir else f"is under {parent}, which is a file"
            raise OutputError(f"output folder {out_dir} {what}; choose a folder")
        if parent.exists():
            break
    if not out_dir.exists() or not any(out_dir.iterdir()):
        return []
    marker = out_dir / MARKER
    if not marker.is_file():
        raise OutputError(f"{out_dir} is not empty and was not written by render; choose an empty or new folder")
    lines = marker.read_text(encoding="utf-8").splitlines()
    if not lines or not lines[0].startswith(MARKER_HEADER):
        raise OutputError(f"{marker} is not a render marker; choose an empty or new folder")
    listed = set(lines[1:])
    for path in sorted(out_dir.rglob("*")):
        rel = path.relative_to(out_dir).as_posix()
        if path.is_dir() and not path.is_symlink():
            continue
        if rel != MARKER and rel not in listed:
            raise OutputError(
                f"{out_dir} holds {rel}, which render did not write; move it away (render never deletes a file "
                "it did not write)"
            )
    return sorted(listed)


def _remove_empty_folders(out_dir: Path) -> None:
    if not out_dir.is_dir():
        return
    for path in sorted(out_dir.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_dir() and not path.is_symlink() and not any(path.iterdir()):
            path.rmdir()
