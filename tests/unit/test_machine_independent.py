"""`check` and `render` give the same output on any machine (issue 22, item 7): no fact of the machine
they run on (the Docker socket's group, whether the socket exists, DOCKER_HOST, ports in use) reaches
their output or the rendered files. Those facts belong to deploy time: `pulumi up` and
`check --deployable` (infra.preflight with this_machine) read them, which each case also shows, so a
case whose two "machines" do not really differ cannot pass.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from infra.cli import main
from infra.preflight import Outcome, preflight
from testbed.paths import REPO_ROOT
from testbed.processes import free_port

Machine = Callable[["World"], None]


@dataclass
class World:
    root: Path
    sock: Path  # the stack's dockerSocketPath
    port: int  # the stack's gatewayHostPort
    monkeypatch: pytest.MonkeyPatch
    cleanup: ExitStack


def socket_of_group(gid: int) -> Machine:
    def make(w: World) -> None:
        w.sock.touch()
        os.chown(w.sock, -1, gid)

    return make


def no_socket(w: World) -> None:
    w.sock.unlink(missing_ok=True)


def docker_host(value: str | None) -> Machine:
    def make(w: World) -> None:
        socket_of_group(4242)(w)
        if value is None:
            w.monkeypatch.delenv("DOCKER_HOST", raising=False)
        else:
            w.monkeypatch.setenv("DOCKER_HOST", value)

    return make


def port_taken(taken: bool) -> Machine:
    def make(w: World) -> None:
        socket_of_group(4242)(w)
        if taken:
            listener = w.cleanup.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", w.port))
            listener.listen()

    return make


def deploy_view(outcome: Outcome) -> tuple[object, ...]:
    return outcome.settings.docker_socket_gid, tuple(outcome.blockers), tuple(outcome.warnings)


# (name, machine A, machine B): two machines that differ in one fact.
MACHINES: list[tuple[str, Machine, Machine]] = [
    ("socket group", socket_of_group(4242), socket_of_group(4343)),
    ("socket present or not", socket_of_group(4242), no_socket),
    ("DOCKER_HOST", docker_host(None), docker_host("ssh://ops@docker.example")),
    ("gateway host port in use", port_taken(False), port_taken(True)),
]


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(REPO_ROOT / "Pulumi.yaml", root)
    sock, port = tmp_path / "docker.sock", free_port()
    (root / "Pulumi.x.yaml").write_text(
        f"config:\n  friday:target: docker\n  friday:dockerSocketPath: {sock}\n  friday:gatewayHostPort: {port}\n",
        encoding="utf-8",
    )
    with ExitStack() as cleanup:
        yield World(root, sock, port, monkeypatch, cleanup)


def outputs(w: World, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    """Everything `check` and `render` print and write, and what a deploy would see."""
    out_dir = w.root / "out"
    shutil.rmtree(out_dir, ignore_errors=True)
    seen: dict[str, object] = {}
    for argv in (["check", "--stack", "x"], ["render", "--stack", "x", "--out", str(out_dir)]):
        code = main(["--root", str(w.root), *argv])
        seen[argv[0]] = (code, *capsys.readouterr())
    seen["files"] = {p.relative_to(out_dir).as_posix(): p.read_bytes() for p in out_dir.rglob("*") if p.is_file()}
    return seen


@pytest.mark.parametrize(("name", "a", "b"), MACHINES, ids=[m[0] for m in MACHINES])
def test_check_and_render_are_the_same_on_two_machines(
    name: str, a: Machine, b: Machine, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    a(world)
    on_a = outputs(world, capsys)
    at_deploy_a = deploy_view(preflight("x", world.root, gateway_config=False, this_machine=True))
    world.cleanup.close()
    b(world)
    on_b = outputs(world, capsys)
    at_deploy_b = deploy_view(preflight("x", world.root, gateway_config=False, this_machine=True))
    assert at_deploy_a != at_deploy_b, "the two machines do not differ at deploy time: the case proves nothing"
    assert on_a["check"] == on_b["check"]
    assert on_a["render"] == on_b["render"]
    assert on_a["files"] == on_b["files"]
    assert on_a["check"][0] == 0 and on_a["render"][0] == 0  # type: ignore[index]


def test_render_says_the_socket_group_is_left_to_deploy_time(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    socket_of_group(4242)(world)
    seen = outputs(world, capsys)
    render_err = str(seen["render"][2])  # type: ignore[index]
    assert "friday:dockerSocketGid is unset: Alloy's extra group is read from" in render_err
    files: dict[str, bytes] = seen["files"]  # type: ignore[assignment]
    assert json.loads(files["docker/alloy.json"])["group_adds"] == []
    assert json.loads(files["services/alloy.json"])["extra_groups"] == []
    # Deploy time reads it: `pulumi up` (an engine config) and `check --deployable` both.
    assert preflight("x", world.root, gateway_config=False, this_machine=True).settings.docker_socket_gid == 4242
