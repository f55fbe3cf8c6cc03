"""Run the real Pulumi program under `pulumi.runtime.set_mocks` and record what it declares."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import config as runtime_config

from infra import PROJECT
from infra.program.main import run
from infra.targets.docker import DockerStack
from testbed.paths import REPO_ROOT

# A realistic, long enough value for every required secret; tests look for these strings
# to prove no secret leaks into plain outputs.
FAKE_AI_KEY = "sk-ant-test-0123456789abcdefghijklmnop"


@dataclass
class Recorder(pulumi.runtime.Mocks):
    resources: list[pulumi.runtime.MockResourceArgs] = field(default_factory=list)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        self.resources.append(args)
        outputs = dict(args.inputs)
        if args.typ == "docker:index/remoteImage:RemoteImage":
            outputs["imageId"] = f"sha256:{args.name}"
        if args.typ == "random:index/randomPassword:RandomPassword":
            outputs["result"] = f"generated-{args.name}-" + "x" * 40
            # The provider's bcrypt of result (a stand-in marked as derived from it).
            outputs["bcryptHash"] = f"$2a$10$bcrypt-of-generated-{args.name}"
        if args.typ == "tls:index/privateKey:PrivateKey":
            outputs["privateKeyPem"] = f"-----BEGIN PRIVATE KEY-----generated-{args.name}"
        if args.typ == "tls:index/selfSignedCert:SelfSignedCert":
            outputs["certPem"] = f"-----BEGIN CERTIFICATE-----generated-{args.name}"
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None

    def of_type(self, typ: str) -> list[pulumi.runtime.MockResourceArgs]:
        return [r for r in self.resources if r.typ == typ]

    def named(self, name: str) -> pulumi.runtime.MockResourceArgs:
        found = [r for r in self.resources if r.name == name]
        assert len(found) == 1, f"expected one resource named {name}, got {[r.name for r in self.resources]}"
        return found[0]


def _project_folder() -> Path:
    """A fresh project folder, removed when the test process ends."""
    folder = Path(tempfile.mkdtemp(prefix="friday-pulumi-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    shutil.copy(REPO_ROOT / "Pulumi.yaml", folder)
    return folder


def configure(stack: str, plain: dict[str, Any], secrets: dict[str, str]) -> Recorder:
    """Install mocks and the stack's config the way `pulumi up` would have it.

    Pulumi runs the program in the project folder: a fresh one gets Pulumi.yaml and the stack
    file (secrets as ciphertext stand-ins), and the engine config carries the same values as
    strings, the decrypted secrets among them. dockerSocketPath points at a file of this folder
    owned by dockerSocketGid (or the test's own group), so no test depends on this machine's Docker.
    """
    recorder = Recorder()
    pulumi.runtime.set_mocks(recorder, project=PROJECT, stack=stack, preview=False)
    folder = _project_folder()
    plain = dict(plain)
    if "dockerSocketPath" not in plain:
        socket = folder / "docker.sock"
        socket.touch()
        gid = plain.get("dockerSocketGid")
        if isinstance(gid, int) and gid != socket.stat().st_gid:
            os.chown(socket, -1, gid)
        plain["dockerSocketPath"] = str(socket)
    config: dict[str, Any] = {f"{PROJECT}:{k}": v for k, v in plain.items()}
    config.update({f"{PROJECT}:{k}": {"secure": f"v1:ciphertext-of-{k}"} for k in secrets})
    (folder / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}), encoding="utf-8")
    os.chdir(folder)
    values = {f"{PROJECT}:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in plain.items()}
    values.update({f"{PROJECT}:{k}": v for k, v in secrets.items()})
    runtime_config.set_all_config(values, [f"{PROJECT}:{k}" for k in secrets])
    return recorder


def configure_stack_file(stack: str, text: str, engine_values: dict[str, str]) -> Recorder:
    """Mocks, a project folder holding this stack file as written, and the engine's strings for it."""
    recorder = Recorder()
    pulumi.runtime.set_mocks(recorder, project=PROJECT, stack=stack, preview=False)
    folder = _project_folder()
    (folder / f"Pulumi.{stack}.yaml").write_text(text, encoding="utf-8")
    os.chdir(folder)
    runtime_config.set_all_config(engine_values, [])
    return recorder


# The engine's marker for a secret value in mocked inputs.
SECRET_SIG = "4dabf18193072939515e22adb298388d"


def deploy(
    check: Callable[[Recorder, Any], None],
    plain: dict[str, Any] | None = None,
    secrets: dict[str, str] | None = None,
    stack: str = "dev",
) -> None:
    """Run the program, wait for every container, then call check(recorder, docker_stack)."""
    recorder = configure(stack, plain or {}, {"anthropicApiKey": FAKE_AI_KEY} if secrets is None else secrets)

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> pulumi.Output[None]:
        docker_stack = run()
        assert isinstance(docker_stack, DockerStack)
        ids = [c.id for c in docker_stack.containers.values()]
        return pulumi.Output.all(*ids).apply(lambda _: check(recorder, docker_stack))

    program()


def run_recording_options(
    stack: str,
    plain: dict[str, Any],
    secrets: dict[str, str],
    awaited: Callable[[Any], list[pulumi.Output[Any]]],
    check: Callable[[Recorder, dict[str, pulumi.ResourceOptions], Any], None],
) -> None:
    """Run the program with every resource's options recorded (a stack transformation), wait for the
    Outputs `awaited(program_result)` names, then call check(recorder, {name: options}, program_result)."""
    recorder = configure(stack, plain, secrets)
    opts: dict[str, pulumi.ResourceOptions] = {}

    def record(args: pulumi.ResourceTransformationArgs) -> None:
        opts[args.name] = args.opts

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> pulumi.Output[None]:
        pulumi.runtime.register_stack_transformation(record)
        result = run()
        return pulumi.Output.all(*awaited(result)).apply(lambda _: check(recorder, opts, result))

    program()


def resolved_exports(monkeypatch: Any) -> dict[str, Any]:
    """Run the configured program and return every stack output, resolved (nested Outputs included,
    so a secret in any of them is seen)."""
    exported: dict[str, Any] = {}
    monkeypatch.setattr(pulumi, "export", exported.__setitem__)
    resolved: dict[str, Any] = {}

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> pulumi.Output[None]:
        run()
        keys = sorted(exported)
        values = pulumi.Output.all(*[pulumi.Output.from_input(exported[k]) for k in keys])
        return values.apply(lambda vs: resolved.update(zip(keys, vs, strict=True)))

    program()
    return resolved


def delivered(recorder: Recorder, service: str, stack: str = "dev") -> Any:
    """The `uploads` input that delivers a service's config files: its config-init container's
    (the service container itself has a read-only root and gets none; see infra/targets/docker_plan.py)."""
    return recorder.named(f"friday-{stack}-{service}-config-init").inputs["uploads"]
