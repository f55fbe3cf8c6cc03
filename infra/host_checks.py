"""Facts of the machine that deploys a Docker-target stack: the Docker socket's group and the
host ports already taken. Read only when the Docker engine is this machine's (no remote docker:host)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from ipaddress import ip_address
from pathlib import Path
from typing import Any

from infra import PROJECT
from infra.settings import Settings
from infra.stack.build import addresses_clash
from infra.stack.spec import StackSpec

PROC = Path("/proc")
_LISTEN = "0A"  # TCP state LISTEN in /proc/net/tcp


def docker_is_local(providers: Mapping[str, Any]) -> bool:
    """True unless the stack's docker:host points at another machine (ssh://, tcp://...)."""
    host = str(providers.get("docker:host") or os.environ.get("DOCKER_HOST") or "")
    return host == "" or host.startswith("unix://")


def resolve_socket_gid(settings: Settings, providers: Mapping[str, Any]) -> tuple[Settings, list[str]]:
    """Settings with dockerSocketGid read from the socket when unset, and problems that block a deploy
    (the docker target's machine facts, infra/targets/registry.py)."""
    path = Path(settings.docker_socket_path)
    local = docker_is_local(providers)
    gid = path.stat().st_gid if local and path.exists() else None
    key = f"{PROJECT}:dockerSocketGid"
    if settings.docker_socket_gid is None:
        if gid is not None:
            return settings.model_copy(update={"docker_socket_gid": gid}), []
        why = (
            f"the Docker host is another machine (docker:host = {providers.get('docker:host')!r})"
            if not local
            else f"{path} does not exist on this machine to read it from (is Docker running here?)"
        )
        return settings, [
            f"{key} is not set and {why}; set it to the socket's group id on the Docker host: "
            f"`pulumi config set {key} $(stat -c %g {path})`"
        ]
    if gid is not None and gid != settings.docker_socket_gid:
        return settings, [
            f"{key} = {settings.docker_socket_gid} but {path} belongs to group {gid} on this machine, so Alloy "
            f"could not read it; set it to {gid} or remove it (then it is read from the socket)"
        ]
    return settings, []


def deploy_time_notes(settings: Settings) -> list[str]:
    """What `render` and plain `check` leave to deploy time, so their output is the same on any machine
    (the docker target's notes, infra/targets/registry.py)."""
    if settings.docker_socket_gid is not None:
        return []
    return [
        f"{PROJECT}:dockerSocketGid is unset: Alloy's extra group is read from {settings.docker_socket_path} at "
        "deploy time (`pulumi up`, `check --deployable`), so the rendered files leave it out"
    ]


@dataclass(frozen=True)
class Listener:
    address: str
    port: int
    holder: str  # 'name (pid N)', or why it is unknown


def listeners(proc: Path = PROC) -> list[Listener]:
    """Every TCP socket listening on this machine, with the process that holds it when visible."""
    owners = _socket_owners(proc)
    found = []
    for name, family in (("tcp", 4), ("tcp6", 6)):
        table = proc / "net" / name
        try:
            rows = table.read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) < 10 or fields[3] != _LISTEN:
                continue
            address, port = _address(fields[1], family)
            holder = owners.get(fields[9], "a process this user cannot see")
            found.append(Listener(address, port, holder))
    return found


def _address(field: str, family: int) -> tuple[str, int]:
    hex_ip, hex_port = field.split(":")
    raw = bytes.fromhex(hex_ip)
    # The kernel prints each 32-bit word in host (little-endian) order.
    ordered = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return str(ip_address(ordered)), int(hex_port, 16)


def _socket_owners(proc: Path) -> dict[str, str]:
    owners: dict[str, str] = {}
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            comm = (pid_dir / "comm").read_text().strip()
            fds = list((pid_dir / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            match = re.fullmatch(r"socket:\[([0-9]+)\]", target)
            if match:
                owners.setdefault(match.group(1), f"{comm} (pid {pid_dir.name})")
    return owners


def ports_in_use(spec: StackSpec, found: Iterable[Listener] | None = None) -> list[str]:
    """A warning per published port of the stack something on this machine already listens on."""
    taken = list(listeners() if found is None else found)
    warnings = []
    for service in spec.services:
        for port in service.published():
            if port.host is None:
                continue
            for listener in taken:
                if listener.port == port.host.port and addresses_clash(listener.address, port.host.address):
                    warnings.append(
                        f"host port {port.host.port} ({service.name}/{port.name} on {port.host.address}) is already "
                        f"taken on this machine by {listener.holder}, listening on {listener.address}:{listener.port}"
                        " (ignore this if that is this stack's own container)"
                    )
                    break
    return warnings
