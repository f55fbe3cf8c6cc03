"""Every object against its schema: built-in kinds with kubernetes-validate --strict on the oldest
and newest supported Kubernetes, custom resources against the Prometheus Operator CRDs."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from infra.targets.kubernetes_map import manifests
from tests.support.kubernetes import (
    KUBERNETES_VERSIONS,
    Manifest,
    crd_problems,
    gateway_deployment,
    kubernetes_validate,
    write_manifests,
)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_built_in_objects_pass_kubernetes_validate_strict(
    objects: list[Manifest], version: str, tmp_path: Path
) -> None:
    built_in = [o for o in objects if not manifests.is_custom(o)]
    assert {o["kind"] for o in built_in} >= {
        "Namespace",
        "Deployment",
        "Service",
        "Ingress",
        "CronJob",
        "NetworkPolicy",
    }
    assert kubernetes_validate(write_manifests(built_in, tmp_path), version) == []


def test_kubernetes_validate_refuses_unknown_fields_and_unknown_kinds(objects: list[Manifest], tmp_path: Path) -> None:
    deployment = copy.deepcopy(gateway_deployment(objects))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = {}
    assert kubernetes_validate(write_manifests([deployment], tmp_path), "1.37") != []
    # A kind the tool has no schema for only warns; the harness counts the warning as a failure.
    [monitor] = [o for o in objects if o["kind"] == "ServiceMonitor" and o["metadata"]["name"].endswith("-gateway")]
    (tmp_path / "custom").mkdir()
    problems = kubernetes_validate(write_manifests([monitor], tmp_path / "custom"), "1.37")
    assert any("ServiceMonitor" in p for p in problems), problems


def test_custom_resources_match_the_operator_crds(objects: list[Manifest]) -> None:
    custom = [o for o in objects if manifests.is_custom(o)]
    assert {o["kind"] for o in custom} == {"ServiceMonitor", "Probe", "PrometheusRule", "AlertmanagerConfig"}
    for obj in custom:
        assert crd_problems(obj) == [], obj["kind"]


@pytest.mark.parametrize(
    ("kind", "path", "typo"),
    [
        ("ServiceMonitor", ("spec", "endpoints", 0), "intervall"),
        ("PrometheusRule", ("spec", "groups", 0, "rules", 0), "anotations"),
        ("AlertmanagerConfig", ("spec", "route"), "groupBye"),
    ],
)
def test_a_typo_in_a_custom_resource_is_caught(
    objects: list[Manifest], kind: str, path: tuple[object, ...], typo: str
) -> None:
    obj = copy.deepcopy(next(o for o in objects if o["kind"] == kind))
    node = obj
    for step in path:
        node = node[step]  # type: ignore[index]
    node[typo] = "30s"
    problems = crd_problems(obj)
    assert any(typo in p for p in problems), problems


def test_a_wrong_type_in_a_custom_resource_is_caught(objects: list[Manifest]) -> None:
    [obj] = [copy.deepcopy(o) for o in objects if o["kind"] == "AlertmanagerConfig"]
    obj["spec"]["inhibitRules"][0]["sourceMatch"][0]["matchType"] = "=="
    assert crd_problems(obj) != []
