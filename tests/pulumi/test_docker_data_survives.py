"""Docker target under Pulumi's mocks: data survives `destroy` and replacement (issue 23 item 4).

Data volumes are protected and kept on delete, their labels hold only stable values (the
provider replaces a volume whose labels change), and every container stops with its service's
grace when the provider replaces or destroys it (`destroy_grace_seconds`; unset, it is 0 s).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi

from infra.stack import build_stack
from infra.targets.docker import DockerStack
from infra.targets.docker_map import VOLUME_KIND_LABEL, VOLUME_LABEL, policy
from infra.targets.docker_plan import ServiceContainer, plan
from testbed.pulumi_harness import FAKE_AI_KEY, Recorder, run_recording_options
from testbed.settings import settings_of

VOLUME = "docker:index/volume:Volume"
CONTAINER = "docker:index/container:Container"
EVERYTHING = {"proxyEnabled": True, "proxyTlsSource": "self-signed", "swaggerUiEnabled": True}


@dataclass
class Seen:
    opts: dict[str, pulumi.ResourceOptions] = field(default_factory=dict)


def deploy(check: Callable[[Recorder, Seen, DockerStack], None], plain: dict[str, Any]) -> None:
    def awaited(stack: Any) -> list[pulumi.Output[Any]]:
        assert isinstance(stack, DockerStack)
        return [c.id for c in stack.containers.values()] + [v.id for v in stack.volumes.values()]

    def checked(recorder: Recorder, opts: dict[str, pulumi.ResourceOptions], stack: Any) -> None:
        check(recorder, Seen(opts), stack)

    run_recording_options("dev", plain, {"anthropicApiKey": FAKE_AI_KEY}, awaited, checked)


def test_data_volumes_are_protected_and_kept_on_delete_config_volumes_are_not() -> None:
    def check(rec: Recorder, seen: Seen, stack: DockerStack) -> None:
        volumes = rec.of_type(VOLUME)
        data = {v.name for v in stack.plan.volumes if v.data}
        assert data >= {"friday-dev-gateway-data", "friday-dev-prometheus-data", "friday-dev-backups"}, data
        assert len(volumes) == len(stack.plan.volumes)
        for volume in volumes:
            opts = seen.opts[volume.name]
            is_data = volume.name in data
            assert bool(opts.protect) is is_data, volume.name
            assert bool(opts.retain_on_delete) is is_data, volume.name
            assert volume.name.endswith("-config") is not is_data, volume.name

    deploy(check, EVERYTHING)


def test_volume_labels_are_stable_and_purposes_are_an_output() -> None:
    def check(rec: Recorder, seen: Seen, stack: DockerStack) -> None:
        for volume in rec.of_type(VOLUME):
            labels = {item["label"]: item["value"] for item in volume.inputs["labels"]}
            short = volume.name.removeprefix("friday-dev-")
            assert labels == {
                "friday.stack": "dev",
                VOLUME_LABEL: short,
                VOLUME_KIND_LABEL: "config" if short.endswith("-config") else "data",
            }, volume.name
        assert stack.volume_purposes["gateway-data"] == next(
            v.purpose for v in stack.plan.volumes if v.name == "friday-dev-gateway-data"
        )
        assert set(stack.volume_purposes) == set(stack.volumes)

    deploy(check, EVERYTHING)


def test_free_text_and_settings_do_not_reach_volume_labels() -> None:
    """A changed purpose or environment must not change a label (that would replace the volume)."""
    base = settings_of({"environment": "development"})
    other = settings_of({"environment": "staging"})
    spec = build_stack(base)
    changed = build_stack(other)
    reworded = dataclasses.replace(
        changed, volumes=tuple(dataclasses.replace(v, purpose=v.purpose + " (reworded)") for v in changed.volumes)
    )
    before = {v.name: v.labels for v in plan(spec, policy(base)).volumes}
    after = {v.name: v.labels for v in plan(reworded, policy(other)).volumes}
    assert before == after
    assert {v.name: v.purpose for v in plan(spec, policy(base)).volumes} != {
        v.name: v.purpose for v in plan(reworded, policy(other)).volumes
    }


def test_every_container_stops_with_its_services_grace_when_replaced_or_destroyed() -> None:
    def check(rec: Recorder, seen: Seen, stack: DockerStack) -> None:
        services = {s.service: s for s in stack.plan.steps if isinstance(s, ServiceContainer)}
        assert services
        for name, step in services.items():
            c = rec.named(step.settings.name).inputs
            grace = step.settings.stop_timeout_s
            assert grace > 0, name
            assert c["destroyGraceSeconds"] == grace == c["stopTimeout"], name
        prometheus = rec.named("friday-dev-prometheus").inputs
        assert prometheus["destroyGraceSeconds"] == 60

    deploy(check, EVERYTHING)
