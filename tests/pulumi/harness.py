"""Run the real Pulumi program under `pulumi.runtime.set_mocks` and record what it declares."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from infra import PROJECT

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


def configure(stack: str, plain: dict[str, Any], secrets: dict[str, str]) -> Recorder:
    """Install mocks and the stack's config the way the engine would (strings, secret keys)."""
    recorder = Recorder()
    pulumi.runtime.set_mocks(recorder, project=PROJECT, stack=stack, preview=False)
    values = {f"{PROJECT}:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in plain.items()}
    values.update({f"{PROJECT}:{k}": v for k, v in secrets.items()})
    runtime_config.set_all_config(values, [f"{PROJECT}:{k}" for k in secrets])
    return recorder


def delivered(recorder: Recorder, service: str, stack: str = "dev") -> Any:
    """The `uploads` input that delivers a service's config files: its config-init container's
    (the service container itself has a read-only root and gets none; see infra/targets/docker_plan.py)."""
    return recorder.named(f"friday-{stack}-{service}-config-init").inputs["uploads"]
