"""Every service and task of the spec is placed on every target (infra/targets/placement.py), and
each placement is what the target's plan holds: its own workload, a container in another's pod, the
platform's configuration, or nothing of it."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from infra.settings import Settings
from infra.stack import build_stack
from infra.stack.spec import StackSpec
from infra.targets import placement, registry
from infra.targets.kubernetes_map import manifests, service_objects
from infra.targets.kubernetes_map.meta import NAME_LABEL
from infra.targets.placement import Kind, Placement
from testbed.settings import settings_of
from tests.support.kubernetes import variant_settings

WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "CronJob"}
# Every optional part on: the reverse proxy (and with it the proxied WebSocket probe), Swagger UI,
# the scrape key (metrics-auth, probe-auth).
DOCKER_FULL = ({"proxyEnabled": True, "swaggerUiEnabled": True}, frozenset({"anthropicApiKey", "metricsToken"}))


def stacks() -> list[tuple[str, Settings]]:
    return [
        ("docker-default", settings_of()),
        ("docker-full", settings_of(*DOCKER_FULL)),
        ("kubernetes-minimal", variant_settings("minimal")),
        ("kubernetes-full", variant_settings("full")),
        ("kubernetes-install", variant_settings("install")),
    ]


def names(spec: StackSpec) -> list[str]:
    return [s.name for s in spec.services] + [t.name for t in spec.tasks]


@pytest.mark.parametrize(("which", "settings"), stacks(), ids=[w for w, _ in stacks()])
def test_every_service_of_the_spec_is_placed_on_every_target(which: str, settings: Settings) -> None:
    spec = build_stack(settings)
    for target in registry.TARGETS:
        missing = set(names(spec)) - set(target.placements)
        assert not missing, f"{which}: no placement on {target.name} for {sorted(missing)}"


def test_every_target_places_the_same_services() -> None:
    tables = [set(t.placements) for t in registry.TARGETS]
    assert all(table == tables[0] for table in tables)
    for target in registry.TARGETS:
        for name, placed in target.placements.items():
            assert (placed.kind is Kind.SIDECAR) == (placed.of is not None), f"{target.name}: {name}"
            if placed.of is not None:
                assert target.placements[placed.of].kind is Kind.OWN, f"{target.name}: {name} beside {placed.of}"


def _containers(objects: list[dict[str, Any]]) -> dict[str, set[str]]:
    """{workload's name label: its containers' names}."""
    out: dict[str, set[str]] = {}
    for obj in objects:
        if obj["kind"] not in WORKLOADS:
            continue
        template = (
            obj["spec"]["jobTemplate"]["spec"]["template"] if obj["kind"] == "CronJob" else obj["spec"]["template"]
        )
        out[obj["metadata"]["labels"][NAME_LABEL]] = {c["name"] for c in template["spec"]["containers"]}
    return out


def kubernetes_claim_holds(name: str, placed: Placement, objects: list[dict[str, Any]]) -> bool:
    pods = _containers(objects)
    everywhere = set().union(*pods.values())
    if placed.kind is Kind.OWN:
        return name in pods
    if placed.kind is Kind.SIDECAR:
        return placed.of in pods and name in pods[str(placed.of)] and name not in pods
    if placed.kind is Kind.REPLACED:
        return name not in everywhere and any(o["kind"] == "Ingress" for o in objects)
    return name not in everywhere and name not in pods


def baremetal_claim_holds(name: str, placed: Placement, plan: dict[str, str]) -> bool:
    unit = any(rel.startswith(f"host/systemd/friday-{name}.") for rel in plan)
    configured = any(rel.startswith(f"host/{name}/") for rel in plan)
    if placed.kind is Kind.OWN:
        return unit
    if placed.kind is Kind.PLATFORM:
        return configured and not unit
    return not unit and not configured


@pytest.mark.parametrize(("which", "settings"), stacks(), ids=[w for w, _ in stacks()])
def test_each_placement_is_what_the_target_plan_holds(which: str, settings: Settings) -> None:
    spec = build_stack(settings)
    wrong = []
    for target in registry.rendered(settings):
        plan = target.plan(settings, spec)
        if target is registry.KUBERNETES:
            objects = [yaml.safe_load(text) for rel, text in plan.items() if "/charts/" not in rel]
        for name in names(spec):
            placed = target.placements[name]
            if target is registry.DOCKER:
                holds = (f"docker/{name}.json" in plan) == (placed.kind is Kind.OWN)
            elif target is registry.KUBERNETES:
                holds = kubernetes_claim_holds(name, placed, objects)
            else:
                holds = baremetal_claim_holds(name, placed, plan)
            if not holds:
                wrong.append(f"{target.name}: {name} is not {placed.kind.value} ({placed.why})")
    assert wrong == [], which


KUBERNETES_STACKS = [(w, s) for w, s in stacks() if w.startswith("kubernetes-")]
POD_KINDS = {"Deployment", "Service", "ConfigMap", "Secret"}


@pytest.mark.parametrize(("which", "settings"), KUBERNETES_STACKS, ids=[w for w, _ in KUBERNETES_STACKS])
def test_kubernetes_pods_of_own_services_are_exactly_the_generic_mapping(which: str, settings: Settings) -> None:
    """Each service placed OWN on Kubernetes (but the ones a module of their own still builds) is what
    service_objects makes of it with its sidecars, and no other module adds a pod object for it."""
    spec = build_stack(settings)
    objects = manifests.objects(settings, spec)
    assert {n for n, p in placement.KUBERNETES.items() if p.kind is Kind.OWN} >= service_objects.BESPOKE
    mapped = 0
    for service in spec.services:
        if placement.KUBERNETES[service.name].kind is not Kind.OWN or service.name in service_objects.BESPOKE:
            continue
        sidecars = service_objects.sidecars_of(spec, service.name)
        pod = {service.name, *(s.name for s in sidecars)}
        found = [o for o in objects if o["kind"] in POD_KINDS and o["metadata"]["labels"][NAME_LABEL] in pod]
        assert found == service_objects.service_objects(settings, service, sidecars), which
        mapped += 1
    assert mapped >= 1, f"{which}: no service is mapped generically"
