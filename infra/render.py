"""`render`: write every generated artefact of a stack to a folder, secrets as placeholders.

Needs no Pulumi CLI, Docker or network: the files are what the real tools (promtool,
nginx -t, systemd-analyze...) check in the tests, and what an operator can read.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any

from infra.host import artefacts as host_artefacts
from infra.host import backup as host_backup
from infra.host import prometheus as host_prometheus
from infra.settings import Settings
from infra.settings.secrets import SECRETS, SECRETS_BY_KEY
from infra.stack import build_stack
from infra.stack.spec import SecretRef, Service, StackSpec
from infra.targets import docker_map, kubernetes_map

MARKER = ".friday-render"

# Extra artefacts that are not files inside a service (rules, dashboards, host units...):
# each producer returns {relative path: content}. Later parts append to this tuple.
Producer = Callable[[Settings, StackSpec], dict[str, str]]
PRODUCERS: tuple[Producer, ...] = (
    host_backup.produce,
    kubernetes_map.produce,
    host_artefacts.produce,
    host_prometheus.produce,
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


def service_document(service: Service) -> dict[str, Any]:
    """A service as JSON-friendly data: secrets replaced, file contents by reference."""
    doc: dict[str, Any] = _plain(dataclasses.asdict(service))
    doc["image"] = service.image.ref
    doc["env"] = {k: placeholder(v) if isinstance(v, SecretRef) else v for k, v in service.env.items()}
    doc["files"] = [{"path": f.path, "mode": f.mode, "rendered": _file_rel(service, f.path)} for f in service.files]
    doc["secret_files"] = [
        {"path": f.path, "mode": f.mode, "content": placeholder(f.secret)} for f in service.secret_files
    ]
    return doc


def _file_rel(service: Service, path: str) -> str:
    return f"files/{service.name}{path}"


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
        "volumes": [dataclasses.asdict(v) for v in spec.volumes],
    }
    out["stack.json"] = json.dumps(summary, indent=2, sort_keys=True) + "\n"
    for service in spec.services:
        out[f"services/{service.name}.json"] = json.dumps(service_document(service), indent=2, sort_keys=True) + "\n"
        for f in service.files:
            out[_file_rel(service, f.path)] = f.content
    if settings.target == "docker":
        policy = docker_map.policy(settings)
        for service in spec.services:
            plan = dataclasses.asdict(docker_map.container(spec, service, policy))
            out[f"docker/{service.name}.json"] = json.dumps(plan, indent=2, sort_keys=True) + "\n"
    for produce in PRODUCERS:
        for rel, content in produce(settings, spec).items():
            if rel in out:
                raise AssertionError(f"two producers write {rel}")
            out[rel] = content
    return out


def write(settings: Settings, out_dir: Path) -> list[Path]:
    """Write the artefacts into out_dir (replacing an earlier render there) and list them."""
    files = artefacts(settings)
    if out_dir.exists():
        if any(out_dir.iterdir()) and not (out_dir / MARKER).exists():
            raise FileExistsError(
                f"{out_dir} is not empty and was not written by render; choose an empty or new folder"
            )
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    (out_dir / MARKER).write_text(f"rendered stack {settings.stack}\n", encoding="utf-8")
    written = []
    for rel, content in sorted(files.items()):
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written
