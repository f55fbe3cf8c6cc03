"""What the Kubernetes objects promise: one gateway pod, probes, hashed names, Ingress paths, render."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra import render
from infra.cli import main
from infra.settings import Settings, SettingsError, load_stack
from infra.stack import backup, build_stack, gateway
from infra.stack import metrics_auth as stack_metrics_auth
from infra.stack.spec import Service
from infra.targets.kubernetes_map import gateway_objects, manifests, metrics_auth_sidecar, tasks
from infra.targets.kubernetes_map.meta import NAME_LABEL, claim_name
from testbed.paths import REPO_ROOT
from testbed.settings import settings_of
from tests.support.kubernetes import KUBE_BASE, Manifest, gateway_deployment, variant_settings


def _one(objects: list[Manifest], kind: str) -> Manifest:
    [obj] = [o for o in objects if o["kind"] == kind]
    return obj


def test_the_gateway_never_runs_twice(objects: list[Manifest]) -> None:
    deployment = gateway_deployment(objects)
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    claim = _one([o for o in objects if o["metadata"]["name"].endswith(gateway.DATA_VOLUME)], "PersistentVolumeClaim")
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]


def test_gateway_pod_has_probes_limits_and_its_sidecar(objects: list[Manifest], settings: Settings) -> None:
    pod = gateway_deployment(objects)["spec"]["template"]["spec"]
    gw, sidecar = pod["containers"]
    assert sidecar["name"] == metrics_auth_sidecar.NAME
    # The caddy binary's file capability must stay in the bounding set; nothing else is kept.
    assert sidecar["securityContext"]["capabilities"] == {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}
    assert gw["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert gw[probe]["httpGet"] == {"path": gateway.HEALTH_PATH, "port": gateway_objects.HTTP_PORT_NAME}
    assert gw["resources"]["limits"] == {
        "cpu": f"{settings.gateway_cpu_millicores}m",
        "memory": f"{settings.gateway_memory_mb}Mi",
    }
    assert pod["securityContext"]["runAsUser"] == settings.gateway_uid
    env = {e["name"]: e for e in gw["env"]}
    assert env["SECUREYEOMAN_SIGNING_KEY"]["valueFrom"]["secretKeyRef"]["key"] == "signingKey"
    assert {m["mountPath"] for m in gw["volumeMounts"]} == {gateway.DATA_DIR, gateway.CONFIG_DIR, "/tmp"}


def test_ingress_serves_tls_and_the_websocket_but_never_metrics(objects: list[Manifest], settings: Settings) -> None:
    [ingress] = [
        o
        for o in objects
        if o["kind"] == "Ingress" and o["metadata"]["name"] == gateway_objects.ingress(settings)["metadata"]["name"]
    ]
    paths = [p["path"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]]
    assert "/ws/metrics" in paths and gateway.HEALTH_PATH in paths
    # A Prefix path of / or /m... would route /metrics; only these exact paths and /api/ are routed.
    assert all(p == "/api/" or kind == "Exact" for p, kind in gateway_objects.INGRESS_PATHS)
    assert not any(gateway.METRICS_PATH.startswith(p) for p, kind in gateway_objects.INGRESS_PATHS if kind == "Prefix")
    assert ingress["spec"]["tls"] == [
        {"hosts": [settings.kubernetes_ingress_host], "secretName": gateway_objects.tls_secret_name(settings)}
    ]
    assert ingress["spec"]["ingressClassName"] == settings.kubernetes_ingress_class
    annotations = ingress["metadata"].get("annotations", {})
    if settings.kubernetes_cert_issuer:
        assert annotations["cert-manager.io/cluster-issuer"] == settings.kubernetes_cert_issuer
    if settings.kubernetes_ingress_class == "nginx":
        assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600


def test_names_follow_content_not_secret_values() -> None:
    base = variant_settings("minimal")
    spec = build_stack(base)
    same = gateway_objects.secret_name(base, spec), gateway_objects.config_map_name(base, spec)
    again = variant_settings("minimal")
    assert (
        gateway_objects.secret_name(again, build_stack(again)),
        gateway_objects.config_map_name(again, build_stack(again)),
    ) == same
    louder = settings_of({**KUBE_BASE, "gatewayPort": 18800}, frozenset({"anthropicApiKey"}), stack="prod")
    assert gateway_objects.config_map_name(louder, build_stack(louder)) != same[1]
    bumped = settings_of({**KUBE_BASE, "kubernetesSecretVersion": 2}, frozenset({"anthropicApiKey"}), stack="prod")
    assert gateway_objects.secret_name(bumped, build_stack(bumped)) != same[0]
    token = settings_of(KUBE_BASE, frozenset({"anthropicApiKey", "metricsToken"}), stack="prod")
    assert gateway_objects.secret_name(token, build_stack(token)) != same[0]


def _gateway(variant: str) -> Service:
    return build_stack(variant_settings(variant)).service(gateway.NAME)


def _sidecar_caddyfile(variant: str) -> str:
    return metrics_auth_sidecar.caddyfile(variant_settings(variant), _gateway(variant))


def test_the_sidecar_adds_the_key_only_when_the_stack_has_one() -> None:
    without = _sidecar_caddyfile("minimal")
    with_key = _sidecar_caddyfile("full")
    assert "X-API-Key" not in without
    assert f"header_up X-API-Key {{env.{metrics_auth_sidecar.KEY_ENV}}}" in with_key
    assert "path /metrics" in with_key and "respond 404" in with_key


@pytest.mark.parametrize("variant", ["minimal", "full"])
def test_the_sidecar_is_the_shared_metrics_auth_proxy(variant: str) -> None:
    """One design: the sidecar's Caddyfile is the shared builder's, on metricsAuthPort, with only
    the upstream (the gateway on the pod's loopback) and the key's presence differing."""
    settings = variant_settings(variant)
    service = _gateway(variant)
    shared = stack_metrics_auth.caddyfile(
        stack_metrics_auth.MetricsAuthParams(
            port=settings.metrics_auth_port,
            upstream=f"127.0.0.1:{settings.gateway_port}",
            key_env=stack_metrics_auth.KEY_ENV if metrics_auth_sidecar.credential_key(service) else None,
        )
    )
    assert _sidecar_caddyfile(variant) == shared
    # The same port everywhere the pod declares it: container port, Service port, Caddy's listener.
    moved = settings_of(
        {**KUBE_BASE, "metricsAuthPort": 9999}, frozenset({"anthropicApiKey", "metricsToken"}), stack="prod"
    )
    spec = build_stack(moved)
    objects = manifests.objects(moved, spec)
    pod = gateway_deployment(objects)["spec"]["template"]["spec"]
    [sidecar] = [c for c in pod["containers"] if c["name"] == metrics_auth_sidecar.NAME]
    assert sidecar["ports"] == [{"name": metrics_auth_sidecar.PORT_NAME, "containerPort": 9999, "protocol": "TCP"}]
    [svc_port] = [
        p for svc in objects if svc["kind"] == "Service" for p in svc["spec"]["ports"] if p["name"] == "metrics"
    ]
    assert svc_port["port"] == 9999
    assert "http://:9999 {" in gateway_objects.config_data(moved, spec)[metrics_auth_sidecar.CADDYFILE]


@pytest.mark.parametrize("variant", ["minimal", "full"])
def test_the_sidecar_config_passes_caddy_validate(variant: str, tmp_path: Path) -> None:
    caddy = shutil.which("caddy")
    assert caddy, "caddy is installed by scripts/bootstrap.sh"
    path = tmp_path / "Caddyfile"
    path.write_text(_sidecar_caddyfile(variant), encoding="utf-8")
    env = {
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path),
        metrics_auth_sidecar.KEY_ENV: "k",
    }
    done = subprocess.run(
        [caddy, "validate", "--adapter", "caddyfile", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    path.write_text(path.read_text().replace("respond 404", "respond_nope 404"), encoding="utf-8")
    bad = subprocess.run(
        [caddy, "validate", "--adapter", "caddyfile", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert bad.returncode != 0


def test_render_writes_exactly_the_objects(tmp_path: Path) -> None:
    settings = load_stack("prod")
    written = render.write(settings, tmp_path / "out")
    rendered = [yaml.safe_load(p.read_text()) for p in sorted(written) if p.parent.name == manifests.RENDER_DIR]
    assert rendered == manifests.objects(settings, build_stack(settings))
    secrets = [o for o in rendered if o["kind"] == "Secret"]
    assert secrets and all(v.startswith("<secret:") for s in secrets for v in s["stringData"].values())


def test_a_docker_stack_renders_no_kubernetes_objects() -> None:
    assert not [p for p in render.artefacts(load_stack("dev")) if p.startswith(manifests.RENDER_DIR + "/")]


@pytest.mark.parametrize(
    ("plain", "expected"),
    [
        ({"kubernetesIngressHost": ""}, "needs friday:kubernetesIngressHost"),
        ({"kubernetesTlsSecret": "tls"}, "exactly one of friday:kubernetesTlsSecret"),
        ({"kubernetesCertIssuer": ""}, "exactly one of friday:kubernetesTlsSecret"),
        ({"kubernetesPrometheusSelector": "release"}, "friday:kubernetesPrometheusSelector = 'release'"),
        ({"kubernetesMonitoringMode": "both"}, "friday:kubernetesMonitoringMode = 'both'"),
        ({"kubePrometheusStackChartVersion": "latest"}, "friday:kubePrometheusStackChartVersion = 'latest'"),
        ({"kubernetesGatewayStorageGb": 0}, "friday:kubernetesGatewayStorageGb = 0"),
        ({"kubernetesIngressClass": "Nginx!"}, "friday:kubernetesIngressClass = 'Nginx!'"),
    ],
)
def test_bad_kubernetes_settings_are_refused(plain: dict[str, Any], expected: str) -> None:
    with pytest.raises(SettingsError) as err:
        settings_of({**KUBE_BASE, **plain})
    assert expected in str(err.value)


def test_a_complete_prod_stack_is_deployable(tmp_path: Path) -> None:
    """`python -m infra check --stack prod --deployable` on Pulumi.prod.yaml plus the secrets an
    operator gives. The Pulumi CLI that decrypts them is not installed here: a stand-in answers
    `pulumi config --show-secrets --json` the way the CLI does."""
    stack_file = yaml.safe_load((REPO_ROOT / "Pulumi.prod.yaml").read_text(encoding="utf-8"))
    (tmp_path / "Pulumi.yaml").write_text((REPO_ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))
    values = {"anthropicApiKey": "sk-ant-test-0123456789abcdefghij", "metricsToken": "admin-api-key-0123456789"}
    for key in values:
        stack_file["config"][f"friday:{key}"] = {"secure": "v1:AAAA:encrypted"}
    (tmp_path / "Pulumi.prod.yaml").write_text(yaml.safe_dump(stack_file, sort_keys=False), encoding="utf-8")
    listing = {f"friday:{k}": {"value": v, "secret": True} for k, v in values.items()}
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "pulumi"
    fake.write_text(f"#!/bin/sh\ncat <<'EOF'\n{json.dumps(listing)}\nEOF\n", encoding="utf-8")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    done = subprocess.run(
        [sys.executable, "-m", "infra", "--root", str(tmp_path), "check", "--stack", "prod", "--deployable"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "stack prod: settings valid and deployable" in done.stdout
    # Without the AI key it is not.
    del stack_file["config"]["friday:anthropicApiKey"]
    (tmp_path / "Pulumi.prod.yaml").write_text(yaml.safe_dump(stack_file, sort_keys=False), encoding="utf-8")
    assert main(["--root", str(tmp_path), "check", "--stack", "prod", "--deployable"]) == 1


def test_the_backup_cronjob_is_the_declared_task(objects: list[Manifest], settings: Settings) -> None:
    # With off-host copies on (full variant), the local backup step (infra/stack/backup.py `steps`).
    [task] = [t for t in build_stack(settings).task(backup.NAME).scheduled() if t.name == backup.NAME]
    [cron] = [o for o in objects if o["kind"] == "CronJob" and o["metadata"]["labels"][NAME_LABEL] == backup.NAME]
    assert cron["metadata"]["name"] == tasks.cronjob_name(settings, backup.NAME)
    assert cron["spec"]["schedule"] == tasks.cron_schedule(settings.backup_interval_hours)
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    job = cron["spec"]["jobTemplate"]["spec"]
    assert job["activeDeadlineSeconds"] == task.deadline_s
    pod = job["template"]["spec"]
    [container] = pod["containers"]
    # Command, image, ids, requests and limits are the task's, not copies.
    assert container["command"] == list(task.command)
    assert container["image"] == task.image.ref
    assert (pod["securityContext"]["runAsUser"], pod["securityContext"]["runAsGroup"]) == (task.uid, task.gid)
    assert container["resources"] == {
        "requests": {
            "cpu": f"{task.resources.requests.cpu_millicores}m",
            "memory": f"{task.resources.requests.memory_mb}Mi",
        },
        "limits": {"cpu": f"{task.resources.limits.cpu_millicores}m", "memory": f"{task.resources.limits.memory_mb}Mi"},
    }
    [files] = [o for o in objects if o["metadata"]["name"] == tasks.files_config_map_name(settings, task)]
    assert files["data"] == backup.tool_sources()
    claims = {o["metadata"]["name"]: o for o in objects if o["kind"] == "PersistentVolumeClaim"}
    size = claims[claim_name(settings, backup.VOLUME)]["spec"]["resources"]["requests"]["storage"]
    assert size == f"{settings.kubernetes_backup_storage_gb}Gi"
    assert claims[gateway_objects.claim_name(settings)]["spec"]["resources"]["requests"]["storage"] == (
        f"{settings.kubernetes_gateway_storage_gb}Gi"
    )


def test_ingress_nginx_limits_logins_per_client_on_a_login_only_ingress() -> None:
    """The gateway sees the controller as every client: ingress-nginx limits the login route per
    client address (limit-rpm on an Ingress holding that path alone) and keeps the allowlist."""
    allow = "203.0.113.0/24,2001:db8::/32"
    s = settings_of(
        {**KUBE_BASE, "proxyLoginRateLimitPerMinute": 2, "proxyLoginRateLimitBurst": 5, "proxySourceAllowlist": allow},
        frozenset({"anthropicApiKey"}),
    )
    ingresses = {o["metadata"]["name"]: o for o in manifests.objects(s, build_stack(s)) if o["kind"] == "Ingress"}
    main = gateway_objects.ingress(s)
    login = ingresses[f"{main['metadata']['name']}-login"]
    assert set(ingresses) == {main["metadata"]["name"], login["metadata"]["name"]}
    [rule] = login["spec"]["rules"]
    assert rule["http"]["paths"] == [
        {
            "path": "/api/v1/auth/login",
            "pathType": "Exact",
            "backend": main["spec"]["rules"][0]["http"]["paths"][0]["backend"],
        }
    ]
    assert login["spec"]["tls"] == main["spec"]["tls"] and rule["host"] == s.kubernetes_ingress_host
    ann = login["metadata"]["annotations"]
    assert ann["nginx.ingress.kubernetes.io/limit-rpm"] == "2"
    assert ann["nginx.ingress.kubernetes.io/limit-burst-multiplier"] == "3"  # burst 5 -> 2 x 3 = 6
    assert not any(k.startswith("cert-manager.io/") for k in ann), "one Certificate, from the main Ingress"
    for ingress in ingresses.values():
        assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/whitelist-source-range"] == allow
    assert "nginx.ingress.kubernetes.io/limit-rpm" not in main["metadata"]["annotations"]
    # Off, or another controller: no login Ingress (docs/deployment.md says what to do there).
    off = settings_of({**KUBE_BASE, "proxyLoginRateLimitPerMinute": 0}, frozenset({"anthropicApiKey"}))
    traefik = settings_of(
        {**KUBE_BASE, "kubernetesIngressClass": "traefik", "proxyLoginRateLimitPerMinute": 0},
        frozenset({"anthropicApiKey"}),
    )
    for other in (off, traefik):
        assert [o for o in manifests.objects(other, build_stack(other)) if o["kind"] == "Ingress"] == [
            gateway_objects.ingress(other)
        ]
    assert "whitelist-source-range" not in str(gateway_objects.ingress(off)["metadata"])
