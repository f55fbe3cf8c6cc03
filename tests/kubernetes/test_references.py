"""Cross-object references resolve: selectors, port names, claims, ConfigMaps, Secrets and their keys."""

from __future__ import annotations

from typing import Any

from infra.settings import Settings
from infra.settings.secrets import SECRETS_BY_KEY
from infra.targets.kubernetes_map import acme_solver, manifests, remote_write
from tests.support.kubernetes import Manifest, gateway_deployment, pod_templates


def _by(objects: list[Manifest], kind: str) -> dict[str, Manifest]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _pod_labels(obj: Manifest) -> dict[str, str]:
    if obj["kind"] == "CronJob":
        return dict(obj["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"])
    return dict(obj["spec"]["template"]["metadata"]["labels"])


def _container_ports(pod: dict[str, Any]) -> dict[str, int]:
    return {p["name"]: p["containerPort"] for c in pod["containers"] for p in c.get("ports", []) if "name" in p}


def test_workload_selectors_match_their_own_pods(objects: list[Manifest]) -> None:
    for deployment in _by(objects, "Deployment").values():
        assert _matches(deployment["spec"]["selector"]["matchLabels"], _pod_labels(deployment))


def test_services_select_pods_that_have_their_target_ports(objects: list[Manifest]) -> None:
    workloads = [o for o in objects if o["kind"] in ("Deployment",)]
    for service in _by(objects, "Service").values():
        [target] = [w for w in workloads if _matches(service["spec"]["selector"], _pod_labels(w))]
        ports = _container_ports(target["spec"]["template"]["spec"])
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in ports, port


def test_ingress_and_service_monitor_point_at_existing_service_ports(objects: list[Manifest]) -> None:
    services = _by(objects, "Service")
    for ingress in _by(objects, "Ingress").values():
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                names = {p["name"] for p in services[backend["name"]]["spec"]["ports"]}
                assert backend["port"]["name"] in names
    for monitor in _by(objects, "ServiceMonitor").values():
        [service] = [
            s
            for s in services.values()
            if _matches(monitor["spec"]["selector"]["matchLabels"], s["metadata"]["labels"])
        ]
        assert monitor["spec"]["namespaceSelector"]["matchNames"] == [service["metadata"]["namespace"]]
        names = {p["name"] for p in service["spec"]["ports"]}
        assert {e["port"] for e in monitor["spec"]["endpoints"]} <= names
        assert monitor["spec"]["jobLabel"] in service["metadata"]["labels"]


def test_pod_volumes_and_env_reference_existing_claims_config_maps_and_secret_keys(objects: list[Manifest]) -> None:
    claims, config_maps, secrets = (
        _by(objects, "PersistentVolumeClaim"),
        _by(objects, "ConfigMap"),
        _by(objects, "Secret"),
    )
    for obj in objects:
        for where, pod in pod_templates(obj):
            for volume in pod["volumes"]:
                if "persistentVolumeClaim" in volume:
                    assert volume["persistentVolumeClaim"]["claimName"] in claims, where
                if "configMap" in volume:
                    cm = config_maps[volume["configMap"]["name"]]
                    assert {i["key"] for i in volume["configMap"].get("items", [])} <= set(cm["data"]), where
            mounted = {v["name"] for v in pod["volumes"]}
            for c in pod["containers"]:
                assert {m["name"] for m in c["volumeMounts"]} <= mounted, (where, c["name"])
                for env in c.get("env", []):
                    ref = env.get("valueFrom", {}).get("secretKeyRef")
                    if ref:
                        assert ref["key"] in secrets[ref["name"]]["stringData"], (where, env["name"])
                for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                    action = c.get(probe, {}).get("httpGet") or c.get(probe, {}).get("tcpSocket")
                    if action:
                        assert action["port"] in _container_ports({"containers": [c]}), (where, probe)


def test_alertmanager_config_secret_references_resolve(objects: list[Manifest]) -> None:
    secrets = _by(objects, "Secret")
    [config] = _by(objects, "AlertmanagerConfig").values()
    refs = []
    for receiver in config["spec"]["receivers"]:
        for key, configs in receiver.items():
            if key == "name":
                continue
            for entry in configs:
                refs += [v for v in entry.values() if isinstance(v, dict) and set(v) == {"name", "key"}]
    for ref in refs:
        assert ref["key"] in secrets[ref["name"]]["stringData"]
    names = {r["name"] for r in config["spec"]["receivers"]}
    routes = [config["spec"]["route"], *config["spec"]["route"]["routes"]]
    assert {r["receiver"] for r in routes} <= names


def test_backup_runs_beside_the_gateway_on_its_claim(objects: list[Manifest]) -> None:
    """The backup CronJob mounts the gateway's claim on its node; the off-host one (full variant), which
    shares the backups claim with it, runs on that node too."""
    deployment = gateway_deployment(objects)
    cronjobs = _by(objects, "CronJob")
    assert len(cronjobs) in (1, 2)
    claim = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}["data"]["persistentVolumeClaim"]
    mounting_data = 0
    for cronjob in cronjobs.values():
        pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        [term] = pod["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        assert _matches(term["labelSelector"]["matchLabels"], _pod_labels(deployment))
        mounting_data += claim in [v["persistentVolumeClaim"] for v in pod["volumes"] if "persistentVolumeClaim" in v]
    assert mounting_data == 1


def test_network_policies_select_existing_pods_and_ports(objects: list[Manifest]) -> None:
    workloads = [o for o in objects if o["kind"] in ("Deployment", "CronJob")]
    for policy in _by(objects, "NetworkPolicy").values():
        selector = policy["spec"]["podSelector"].get("matchLabels", {})
        if not selector:
            continue  # the default deny selects every pod
        if acme_solver.SOLVER_LABEL in selector:
            continue  # cert-manager's solver pods, not the stack's (tests/kubernetes/test_acme_solver.py)
        [target] = [w for w in workloads if _matches(selector, _pod_labels(w))]
        spec = target["spec"]["jobTemplate"]["spec"] if target["kind"] == "CronJob" else target["spec"]
        ports = _container_ports(spec["template"]["spec"])
        for rule in policy["spec"].get("ingress", []):
            assert {p["port"] for p in rule["ports"]} <= set(ports)


def test_every_secret_value_is_a_placeholder(objects: list[Manifest], settings: Settings) -> None:
    secrets = _by(objects, "Secret")
    assert secrets
    # Each remote-write target's credential is an entry of remoteWriteCredentials; its user name is plain.
    credentials = {t.credential_key for t in settings.remote_write if t.credential_key}
    usernames = {remote_write.username_key(t) for t in settings.remote_write if t.auth == "basic"}
    for secret in secrets.values():
        assert "data" not in secret
        keys = manifests.secret_keys(secret)
        assert keys and set(keys.values()) <= set(SECRETS_BY_KEY) | credentials
        plain = set(secret["stringData"]) - set(keys)
        assert plain <= {"admin-user"} | usernames, plain
