"""Every pod the stack creates passes Pod Security `restricted`, which its namespace enforces."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from infra.settings import Settings
from tests.support.kubernetes import Manifest, pod_templates, restricted_problems


def test_the_namespace_enforces_warns_and_audits_restricted(objects: list[Manifest], settings: Settings) -> None:
    [ns] = [o for o in objects if o["kind"] == "Namespace" and o["metadata"]["name"] == settings.kubernetes_namespace]
    for mode in ("enforce", "warn", "audit"):
        assert ns["metadata"]["labels"][f"pod-security.kubernetes.io/{mode}"] == "restricted"
    # Everything but install mode's monitoring namespace and Grafana Secret lives in the stack's namespace.
    elsewhere = [
        o for o in objects if o["kind"] != "Namespace" and o["metadata"]["namespace"] != ns["metadata"]["name"]
    ]
    assert all(o["metadata"]["namespace"] == settings.kubernetes_monitoring_namespace for o in elsewhere)
    assert bool(elsewhere) == (settings.kubernetes_monitoring_mode == "install")


def test_every_pod_template_is_restricted(objects: list[Manifest]) -> None:
    pods = [p for o in objects for p in pod_templates(o)]
    assert {where.split("/")[0] for where, _ in pods} == {"Deployment", "CronJob"}
    for where, pod in pods:
        assert restricted_problems(pod) == [], where
        assert pod["automountServiceAccountToken"] is False, where
        for c in pod["containers"]:
            assert c["securityContext"]["readOnlyRootFilesystem"] is True, (where, c["name"])
            assert set(c["resources"]) == {"requests", "limits"}, (where, c["name"])


def _container(pod: dict[str, Any]) -> dict[str, Any]:
    return dict(pod["containers"][0]["securityContext"])


MUTATIONS: dict[str, Callable[[dict[str, Any]], object]] = {
    "privileged": lambda p: p["containers"][0]["securityContext"].update(privileged=True),
    "escalation": lambda p: p["containers"][0]["securityContext"].pop("allowPrivilegeEscalation"),
    "root": lambda p: (
        p["securityContext"].pop("runAsNonRoot"),
        p["containers"][0]["securityContext"].pop("runAsNonRoot"),
    ),
    "capability": lambda p: p["containers"][0]["securityContext"]["capabilities"].update(add=["SYS_ADMIN"]),
    "no drop": lambda p: p["containers"][0]["securityContext"]["capabilities"].update(drop=[]),
    "seccomp": lambda p: (
        p["securityContext"]["seccompProfile"].update(type="Unconfined"),
        p["containers"][0]["securityContext"].pop("seccompProfile"),
    ),
    "hostPath": lambda p: p["volumes"].append({"name": "host", "hostPath": {"path": "/"}}),
    "hostNetwork": lambda p: p.update(hostNetwork=True),
    "hostPort": lambda p: p["containers"][0]["ports"].append({"containerPort": 80, "hostPort": 80}),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_the_check_catches_what_restricted_refuses(objects: list[Manifest], mutation: str) -> None:
    [deployment] = [o for o in objects if o["kind"] == "Deployment"]
    pod = copy.deepcopy(deployment["spec"]["template"]["spec"])
    MUTATIONS[mutation](pod)
    assert restricted_problems(pod) != []
