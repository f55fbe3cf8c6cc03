"""The generic mapping of spec services to Kubernetes objects (infra/targets/kubernetes_map/service_objects.py):
each container says what its spec service declares, a sidecar nobody outside the pod reaches stays on
the pod's loopback, the workload kind follows the service's."""

from __future__ import annotations

import dataclasses

import pytest

from infra.settings.groups import label_pairs
from infra.stack import blackbox, build_stack, metrics_auth, probe_auth
from infra.stack.spec import HttpCheck, SecretRef, Service, Workload
from infra.targets.kubernetes_map import pods, service_objects
from infra.targets.kubernetes_map.meta import Manifest
from tests.support.kubernetes import crd_problems, variant_settings


def _by_kind(objects: list[Manifest], kind: str) -> list[Manifest]:
    return [o for o in objects if o["kind"] == kind]


def test_each_container_is_what_its_service_declares() -> None:
    settings = variant_settings("full")
    spec = build_stack(settings)
    host = spec.service(blackbox.NAME)
    sidecars = service_objects.sidecars_of(spec, host.name)
    assert [s.name for s in sidecars] == [probe_auth.NAME]
    [deployment] = _by_kind(service_objects.service_objects(settings, host, sidecars), "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == host.uid and pod["securityContext"]["runAsGroup"] == host.gid
    assert pod["terminationGracePeriodSeconds"] == max(s.stop_grace_s for s in (host, *sidecars))
    for service, c in zip((host, *sidecars), pod["containers"], strict=True):
        assert c["name"] == service.name
        assert c["image"] == service.image.ref
        assert c.get("args", []) == list(service.command)
        assert c["resources"] == pods.resources(service.resources)
        assert c["securityContext"]["capabilities"].get("add", []) == list(service.capabilities_add)
        assert c["securityContext"]["readOnlyRootFilesystem"] is service.read_only_root
        assert {e["name"] for e in c.get("env", [])} == set(service.env)
        secret_env = {e["name"]: e["valueFrom"]["secretKeyRef"]["key"] for e in c.get("env", []) if "valueFrom" in e}
        assert secret_env == {k: v.key for k, v in service.env.items() if isinstance(v, SecretRef)}
        assert isinstance(service.health.check, HttpCheck)
        for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert c[kind]["timeoutSeconds"] == service.health.timeout_s
        assert c["livenessProbe"]["periodSeconds"] == service.health.interval_s
        assert c["livenessProbe"]["failureThreshold"] == service.health.retries
        mounts = {m["mountPath"] for m in c["volumeMounts"]}
        assert {service.config_dir, *(s.path for s in service.scratch)} == mounts


def test_the_exporter_is_probed_over_the_pod_ip_and_probe_auth_from_inside() -> None:
    settings = variant_settings("full")
    spec = build_stack(settings)
    objects = service_objects.service_objects(
        settings, spec.service(blackbox.NAME), service_objects.sidecars_of(spec, blackbox.NAME)
    )
    [deployment] = _by_kind(objects, "Deployment")
    exporter, sidecar = deployment["spec"]["template"]["spec"]["containers"]
    assert exporter["readinessProbe"]["httpGet"] == {"path": blackbox.HEALTH_PATH, "port": blackbox.HTTP}
    assert exporter["ports"] == [{"name": blackbox.HTTP, "containerPort": blackbox.PORT, "protocol": "TCP"}]
    # probe-auth listens on the pod's loopback (its Kubernetes Caddyfile binds there): no container
    # port, not in the Service, checked with the image's wget from inside.
    assert "ports" not in sidecar
    url = f"http://127.0.0.1:{probe_auth.PORT}{probe_auth.HEALTH_PATH}"
    assert sidecar["readinessProbe"]["exec"]["command"] == ["wget", "-q", "-O", "/dev/null", url]
    [config] = [
        o
        for o in _by_kind(objects, "ConfigMap")
        if o["metadata"]["labels"]["app.kubernetes.io/name"] == probe_auth.NAME
    ]
    assert "\tbind 127.0.0.1\n" in config["data"]["Caddyfile"]
    [svc] = _by_kind(objects, "Service")
    assert [p["name"] for p in svc["spec"]["ports"]] == [blackbox.HTTP]
    [secret] = _by_kind(objects, "Secret")
    assert secret["stringData"] == {"metricsToken": "<secret:metricsToken>"}


def test_a_sidecar_that_serves_metrics_is_reached_through_the_service() -> None:
    """A sidecar Prometheus scrapes (metrics-auth beside a service) lists its port and is in the Service."""
    settings = variant_settings("full")
    spec = build_stack(settings)
    sidecar = metrics_auth.build(settings).services[0]
    assert sidecar.metrics is not None
    objects = service_objects.service_objects(settings, spec.service(blackbox.NAME), [sidecar])
    [deployment] = _by_kind(objects, "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][1]
    assert container["ports"] == service_objects.container_ports(sidecar)
    assert "httpGet" in container["readinessProbe"]
    [svc] = _by_kind(objects, "Service")
    assert [p["name"] for p in svc["spec"]["ports"]] == [blackbox.HTTP, *(p.name for p in sidecar.ports)]


def _exporter(workload: Workload) -> Service:
    return dataclasses.replace(build_stack(variant_settings("minimal")).service(blackbox.NAME), workload=workload)


def test_the_workload_kind_follows_the_service() -> None:
    settings = variant_settings("minimal")
    [rolling] = _by_kind(service_objects.service_objects(settings, _exporter(Workload.STATELESS)), "Deployment")
    assert "strategy" not in rolling["spec"] and rolling["spec"]["replicas"] == 1
    [single] = _by_kind(service_objects.service_objects(settings, _exporter(Workload.SINGLE_WRITER)), "Deployment")
    assert single["spec"]["strategy"] == {"type": "Recreate"}
    with pytest.raises(AssertionError, match="scheduled workload is not a Deployment"):
        service_objects.service_objects(settings, _exporter(Workload.SCHEDULED))


def test_the_probes_follow_the_declared_health() -> None:
    exporter = _exporter(Workload.STATELESS)
    health = dataclasses.replace(exporter.health, interval_s=17, timeout_s=7, retries=4, start_period_s=50)
    probes = pods.health_probes(dataclasses.replace(exporter, health=health))
    assert probes["livenessProbe"]["periodSeconds"] == 17 and probes["livenessProbe"]["failureThreshold"] == 4
    assert probes["readinessProbe"]["periodSeconds"] == 10 and probes["readinessProbe"]["timeoutSeconds"] == 7
    # Up to start_period + one minute: 110 s at one probe per 7 s.
    assert probes["startupProbe"]["periodSeconds"] == 7 and probes["startupProbe"]["failureThreshold"] == 16


def test_a_service_with_metrics_gets_a_service_monitor_prometheus_selects() -> None:
    settings = variant_settings("full")
    spec = build_stack(settings)
    exporter = spec.service(blackbox.NAME)
    assert exporter.metrics is not None
    [monitor] = service_objects.monitors(settings, spec)
    assert crd_problems(monitor) == []
    assert label_pairs(settings.kubernetes_prometheus_selector).items() <= monitor["metadata"]["labels"].items()
    [endpoint] = monitor["spec"]["endpoints"]
    assert (endpoint["port"], endpoint["path"]) == (exporter.metrics.port, exporter.metrics.path)
    # job = the Service's name label = the service's name, as Docker's scrape job.
    [svc] = [o for o in service_objects.objects(settings, spec) if o["kind"] == "Service"]
    assert svc["metadata"]["labels"][monitor["spec"]["jobLabel"]] == blackbox.NAME
    assert monitor["spec"]["selector"]["matchLabels"] == svc["spec"]["selector"]
    # A sidecar serving another job's metrics cannot take its pod's Service label as the job.
    sidecar = metrics_auth.build(settings).services[0]
    with pytest.raises(AssertionError, match="is not its pod's Service label"):
        service_objects.service_monitors(settings, exporter, [sidecar])
