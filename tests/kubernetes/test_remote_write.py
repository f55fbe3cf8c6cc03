"""Remote write on Kubernetes (install mode): kube-prometheus-stack's prometheusSpec.remoteWrite
refers to the keys of one Secret in the monitoring namespace, whose credential values are
placeholders the program fills with each target's entry of friday:remoteWriteCredentials."""

from __future__ import annotations

from typing import Any

from infra.alerting import rules
from infra.settings.remote_write import QUEUE_DEFAULTS, credential_key
from infra.settings.secrets import placeholder
from infra.targets.kubernetes_map import install, manifests, monitoring
from infra.targets.kubernetes_map import remote_write as k8s_remote_write
from tests.support.kubernetes import variant_objects, variant_settings


def remote_write_values() -> list[dict[str, Any]]:
    values = install.kube_prometheus_stack(variant_settings("install")).values
    spec: dict[str, Any] = values["prometheus"]["prometheusSpec"]
    assert spec["externalLabels"] == {"environment": variant_settings("install").environment}
    found: list[dict[str, Any]] = spec["remoteWrite"]
    return found


def test_every_target_is_in_the_chart_values_with_secret_key_references() -> None:
    settings = variant_settings("install")
    name = k8s_remote_write.secret_name(settings)
    by_name = {w["name"]: w for w in remote_write_values()}
    assert list(by_name) == ["mimir", "vm", "agent"]
    assert by_name["mimir"]["url"] == "https://mimir.example.org/api/v1/push"
    assert by_name["mimir"]["basicAuth"] == {
        "username": {"name": name, "key": "mimir-username"},
        "password": {"name": name, "key": "mimir-credential"},
    }
    assert by_name["vm"]["authorization"] == {"type": "Bearer", "credentials": {"name": name, "key": "vm-credential"}}
    assert "basicAuth" not in by_name["agent"] and "authorization" not in by_name["agent"]
    assert by_name["agent"]["queueConfig"] == QUEUE_DEFAULTS
    assert by_name["vm"]["queueConfig"]["maxShards"] == 10


def test_the_secret_holds_every_referenced_key_and_placeholders_for_the_credentials() -> None:
    settings = variant_settings("install")
    [secret] = [
        o
        for o in variant_objects("install")
        if o["kind"] == "Secret" and o["metadata"]["name"] == k8s_remote_write.secret_name(settings)
    ]
    assert secret["metadata"]["namespace"] == settings.kubernetes_monitoring_namespace
    data = secret["stringData"]
    referenced = set()
    for entry in remote_write_values():
        auth = entry.get("basicAuth", {})
        for ref in [*auth.values(), entry.get("authorization", {}).get("credentials")]:
            if ref:
                assert ref["name"] == secret["metadata"]["name"]
                referenced.add(ref["key"])
    assert set(data) == referenced == {"mimir-username", "mimir-credential", "vm-credential"}
    assert data["mimir-username"] == "tenant-1"
    assert data["mimir-credential"] == placeholder(credential_key("mimir"))
    # The program fills exactly these from the credentials secret (infra/program/secrets.py).
    assert manifests.secret_keys(secret) == {
        "mimir-credential": credential_key("mimir"),
        "vm-credential": credential_key("vm"),
    }


def test_without_targets_there_is_no_remote_write_and_no_secret() -> None:
    settings = variant_settings("minimal")
    assert k8s_remote_write.secret(settings) is None
    assert k8s_remote_write.remote_write(settings) == []


def test_the_remote_write_alert_is_left_to_kube_prometheus_stack_like_the_other_prometheus_rules() -> None:
    """The stack's PrometheusRule carries no Prometheus-self rules (alerts/monitoring.yml's are left to
    kube-prometheus-stack's default rules, which watch remote write too: PrometheusRemoteStorageFailures,
    PrometheusRemoteWriteBehind); so no RemoteWriteFailing, even with targets. The chart's default
    rules stay on (the values do not touch defaultRules)."""
    settings = variant_settings("install")
    assert settings.remote_write
    groups = monitoring.prometheus_rule(settings)["spec"]["groups"]
    names = {g["name"] for g in groups}
    assert rules.REMOTE_WRITE_RULES.group not in names and rules.MONITORING_RULES.group not in names
    alerts = {r.get("alert") for g in groups for r in g["rules"]}
    assert not alerts & {r.name for r in rules.REMOTE_WRITE_RULES.rules}
    assert "defaultRules" not in install.kube_prometheus_stack(settings).values
