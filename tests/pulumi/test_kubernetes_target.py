"""The real Pulumi program on the kubernetes target, under mocks: exactly the rendered objects,
secrets only as secret Outputs, protect on the claims, CRDs and charts before custom resources."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pytest

from infra import crds as crd_pins
from infra.program.main import run
from infra.settings import SettingsError
from infra.stack import build_stack
from infra.targets.kubernetes import KubernetesStack, logical_name
from infra.targets.kubernetes_map import install, manifests
from testbed.paths import REPO_ROOT
from testbed.pulumi_harness import (
    FAKE_AI_KEY,
    SECRET_SIG,
    Recorder,
    configure,
    resolved_exports,
    run_recording_options,
)
from testbed.settings import settings_of
from tests.support.crd_cache import TEST_CRDS, TEST_OPERATOR
from tests.support.kubernetes import ALL_RECEIVERS, KUBE_BASE

RECEIVER_VALUES = {
    "alertWebhookUrl": "https://hooks.example.org/webhook-secret-path",
    "alertSlackUrl": "https://hooks.slack.example/T000/B000/slack-secret-token",
    "alertEmailPassword": "smtp-password-secret-value",
    "alertPagerdutyKey": "pagerduty-routing-secret-key",
    "alertHeartbeatUrl": "https://heartbeat.example.org/ping-secret",
}
METRICS_TOKEN = "sk-metrics-admin-key-secret-0123456789"
BASE = "friday-prod"
HELM = "kubernetes:helm.sh/v3:Release"
CRDS = "kubernetes:yaml/v2:ConfigGroup"


@dataclass
class Seen:
    """Options each resource was registered with (from a stack transformation)."""

    opts: dict[str, pulumi.ResourceOptions] = field(default_factory=dict)
    parents: dict[str, str] = field(default_factory=dict)


def deploy(
    check: Callable[[Recorder, Seen, KubernetesStack], None], plain: dict[str, Any], secrets: dict[str, str]
) -> None:
    def awaited(stack: Any) -> list[pulumi.Output[Any]]:
        assert isinstance(stack, KubernetesStack)
        return [r.id for r in stack.resources.values()] + [r.id for r in stack.releases.values()]

    def checked(recorder: Recorder, opts: dict[str, pulumi.ResourceOptions], stack: Any) -> None:
        check(recorder, Seen(opts), stack)

    run_recording_options("prod", {**KUBE_BASE, **plain}, secrets, awaited, checked)


def expected_objects(plain: dict[str, Any], secrets: dict[str, str]) -> list[dict[str, Any]]:
    s = settings_of({**KUBE_BASE, **plain}, frozenset(secrets), stack="prod")
    return manifests.objects(s, build_stack(s))


def k8s_resources(rec: Recorder) -> dict[str, pulumi.runtime.MockResourceArgs]:
    return {r.name: r for r in rec.resources if r.typ.startswith("kubernetes:") and r.typ not in (HELM, CRDS)}


def test_existing_mode_creates_exactly_the_rendered_objects() -> None:
    secrets = {"anthropicApiKey": FAKE_AI_KEY}
    objects = expected_objects({}, secrets)

    def check(rec: Recorder, seen: Seen, stack: KubernetesStack) -> None:
        made = k8s_resources(rec)
        assert set(made) == {logical_name(BASE, o) for o in objects}
        for obj in objects:
            inputs = made[logical_name(BASE, obj)].inputs
            assert inputs["metadata"] == obj["metadata"], obj["kind"]
            for key in ("spec", "data"):
                if key in obj:
                    assert inputs[key] == obj[key], (obj["kind"], key)
            if manifests.is_custom(obj):
                assert (inputs["apiVersion"], inputs["kind"]) == (obj["apiVersion"], obj["kind"])
        assert rec.of_type(HELM) == [] and rec.of_type(CRDS) == []
        assert [r.name for r in rec.of_type("pulumi:providers:kubernetes")] == [f"{BASE}-cluster"]

    deploy(check, {}, secrets)


def test_install_mode_orders_each_chart_and_custom_resource_after_what_it_needs_only(crd_cache: Path) -> None:
    plain = {"kubernetesMonitoringMode": "install", "prometheusOperatorVersion": TEST_OPERATOR}
    secrets = {"anthropicApiKey": FAKE_AI_KEY}
    objects = expected_objects(plain, secrets)

    def check(rec: Recorder, seen: Seen, stack: KubernetesStack) -> None:
        assert set(k8s_resources(rec)) == {logical_name(BASE, o) for o in objects}
        [crds] = rec.of_type(CRDS)
        # Exactly the checked bytes of every file of the release, not a URL read later.
        assert crds.inputs["yaml"] == "\n---\n".join(t.strip("\n") for t in TEST_CRDS.values()) + "\n"
        releases = {r.inputs["name"]: r.inputs for r in rec.of_type(HELM)}
        assert set(releases) == {"kube-prometheus-stack", "loki", "alloy"}
        s = settings_of({**KUBE_BASE, **plain}, frozenset(secrets), stack="prod")
        for chart in install.charts(s):
            r = releases[chart.release]
            assert (r["chart"], r["version"], r["namespace"]) == (chart.chart, chart.version, chart.namespace)
            assert r["repositoryOpts"] == {"repo": chart.repository}
            assert r["skipCrds"] is True
            assert r["values"] == json.loads(json.dumps(chart.values))
        assert stack.crds is not None
        applied_crds = stack.crds
        by_name = {logical_name(BASE, o): o for o in objects}

        def deps(name: str) -> set[str]:
            """What a resource waits on: the program's logical names, and "crds"."""
            out = set()
            for dep in seen.opts[name].depends_on or []:  # type: ignore[union-attr]
                if dep is applied_crds:
                    out.add("crds")
                else:
                    [found] = [n for n, r in stack.resources.items() if r is dep]
                    out.add(found)
            return out

        def key(kind: str, name: str, namespace: str | None = None) -> str:
            meta = {"name": name, **({"namespace": namespace} if namespace else {})}
            return logical_name(BASE, {"kind": kind, "metadata": meta})

        app_ns, mon_ns = key("Namespace", "friday-test"), key("Namespace", "monitoring")
        grafana = key("Secret", install.grafana_secret_name(s), "monitoring")
        # Each chart waits on what it needs, never on the gateway, its Ingress or anything else.
        assert deps(f"{BASE}-kube-prometheus-stack") == {"crds", mon_ns, grafana}
        assert deps(f"{BASE}-loki") == {mon_ns}
        assert deps(f"{BASE}-alloy") == {mon_ns, app_ns}  # its Role is in the stack's namespace
        # Custom resources wait on their namespace and the CRDs, not on any chart.
        custom = [n for n, o in by_name.items() if manifests.is_custom(o)]
        assert {by_name[n]["kind"] for n in custom} >= {"ServiceMonitor", "PrometheusRule", "AlertmanagerConfig"}
        for n in custom:
            assert deps(n) == {"crds", key("Namespace", by_name[n]["metadata"]["namespace"])}, n
        # Built-in objects wait on their namespace only (the Ingress included).
        for n, o in by_name.items():
            if not manifests.is_custom(o) and o["kind"] != "Namespace":
                assert deps(n) == {key("Namespace", o["metadata"]["namespace"])}, n

    deploy(check, plain, secrets)


def test_gateway_api_routing_creates_the_rendered_httproute_after_its_namespace_only() -> None:
    plain = {
        "kubernetesRouting": "gateway-api",
        "kubernetesCertIssuer": "",
        "kubernetesGatewayName": "public",
        "kubernetesIngressSourceCidrs": "10.20.0.0/24",
        "proxyLoginRateLimitPerMinute": 0,
    }
    secrets = {"anthropicApiKey": FAKE_AI_KEY}
    objects = expected_objects(plain, secrets)
    [route] = [o for o in objects if o["kind"] == "HTTPRoute"]

    def check(rec: Recorder, seen: Seen, stack: KubernetesStack) -> None:
        made = k8s_resources(rec)
        assert set(made) == {logical_name(BASE, o) for o in objects}
        assert not [r for r in rec.resources if r.typ.endswith(":Ingress")]
        args = made[logical_name(BASE, route)]
        assert args.typ == "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"
        assert (args.inputs["metadata"], args.inputs["spec"]) == (route["metadata"], route["spec"])
        namespace = stack.namespaces["friday-test"]
        assert seen.opts[logical_name(BASE, route)].depends_on == [namespace]

    deploy(check, plain, secrets)


def test_install_mode_refuses_a_crd_file_that_does_not_match_its_checksum(crd_cache: Path) -> None:
    (crd_cache / "b.yaml").write_text(TEST_CRDS["b.yaml"].replace("bs.", "evil."), encoding="utf-8")
    plain = {"kubernetesMonitoringMode": "install", "prometheusOperatorVersion": TEST_OPERATOR}
    with pytest.raises(crd_pins.CrdError, match=r"b\.yaml: sha256 [0-9a-f]{64} is not the pinned"):
        deploy(lambda *_: None, plain, {"anthropicApiKey": FAKE_AI_KEY})
    (crd_cache / "b.yaml").unlink()
    with pytest.raises(crd_pins.CrdError, match=r"b\.yaml is missing: run scripts/crds\.sh"):
        deploy(lambda *_: None, plain, {"anthropicApiKey": FAKE_AI_KEY})


def test_claims_are_protected_kept_on_delete_and_everything_is_a_child_of_the_component() -> None:
    def check(rec: Recorder, seen: Seen, stack: KubernetesStack) -> None:
        for name in k8s_resources(rec):
            opts = seen.opts[name]
            assert opts.parent is stack, name
            assert bool(opts.protect) == ("-persistentvolumeclaim-" in name), name
            assert bool(opts.retain_on_delete) == ("-persistentvolumeclaim-" in name), name

    deploy(check, {}, {"anthropicApiKey": FAKE_AI_KEY})


def test_secrets_reach_the_cluster_only_as_secret_outputs() -> None:
    secrets = {"anthropicApiKey": FAKE_AI_KEY, "metricsToken": METRICS_TOKEN, **RECEIVER_VALUES}

    def check(rec: Recorder, seen: Seen, stack: KubernetesStack) -> None:
        secret_resources = [r for r in rec.resources if r.typ == "kubernetes:core/v1:Secret"]
        # The gateway's, Alertmanager's receivers', and the blackbox pod's (probe-auth's admin key).
        owners = sorted(r.inputs["metadata"]["labels"]["app.kubernetes.io/name"] for r in secret_resources)
        assert len(secret_resources) == 3, owners
        for r in secret_resources:
            # The engine's marker of a secret value: the whole stringData map is secret.
            assert SECRET_SIG in r.inputs["stringData"], r.name
        everything_else = repr([r.inputs for r in rec.resources if r.typ != "kubernetes:core/v1:Secret"])
        for value in [*secrets.values()]:
            assert value not in everything_else
        # The generated gateway secrets (mocked RandomPassword results) too.
        assert "generated-friday-" not in everything_else

    deploy(check, ALL_RECEIVERS, secrets)


@pytest.mark.parametrize(
    ("plain", "expected"),
    [
        ({"kubernetesIngressHost": ""}, "needs friday:kubernetesIngressHost"),
        ({"kubernetesTlsSecret": "tls"}, "exactly one of friday:kubernetesTlsSecret"),
        ({"kubernetesMonitoringMode": "helm"}, "friday:kubernetesMonitoringMode = 'helm'"),
        ({"proxyEnabled": True}, "on 'kubernetes' the Ingress is the reverse proxy"),
        ({"kubernetesPrometheusSelector": "release=="}, "friday:kubernetesPrometheusSelector"),
    ],
)
def test_bad_kubernetes_settings_fail_before_any_resource(plain: dict[str, Any], expected: str) -> None:
    recorder = configure("prod", {**KUBE_BASE, **plain}, {"anthropicApiKey": FAKE_AI_KEY})
    with pytest.raises(SettingsError, match=expected):
        run()
    assert recorder.resources == []


def test_stack_outputs_say_where_things_are_and_hold_no_secret(
    monkeypatch: pytest.MonkeyPatch, crd_cache: Path
) -> None:
    given = {"anthropicApiKey": FAKE_AI_KEY, "metricsToken": METRICS_TOKEN}
    plain = {"kubernetesMonitoringMode": "install", "kubernetesContext": "prod-ctx"}
    configure("prod", {**KUBE_BASE, **plain, "prometheusOperatorVersion": TEST_OPERATOR}, given)
    resolved = resolved_exports(monkeypatch)
    assert resolved["gatewayUrl"] == "https://friday.example.org"
    assert resolved["gatewayHealthUrl"] == "https://friday.example.org/health"
    assert resolved["gatewayService"] == "http://friday-gateway.friday-test.svc:18789"
    assert resolved["namespace"] == "friday-test" and resolved["kubernetesContext"] == "prod-ctx"
    assert resolved["volumeClaims"] == ["friday-gateway-data", "friday-backups"]
    assert set(resolved["charts"]) == {"kube-prometheus-stack", "loki", "alloy"}
    assert "gatewayMetricsUrl" not in resolved, "/metrics is not routed outside the cluster"
    text = repr(resolved)
    assert FAKE_AI_KEY not in text and METRICS_TOKEN not in text and "generated-" not in text
    readme = (REPO_ROOT / "README.md").read_text()
    [listed] = re.findall(r"Stack outputs of a `kubernetes` stack:(.*?)\n\n", readme, re.S)
    assert set(resolved) == set(re.findall(r"`(\w+)`", listed))
