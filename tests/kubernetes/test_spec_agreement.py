"""The Kubernetes objects say what the spec says about a service (issue 20): the metrics-auth
sidecar asks for the requests and limits of the spec's metrics-auth service, and the ServiceMonitor
scrapes the gateway job with the path, interval and timeout Prometheus has in the spec."""

from __future__ import annotations

from typing import Any

import pytest

from infra.stack import build_stack, gateway
from infra.stack import metrics_auth as metrics_auth_service
from infra.stack.prometheus import scrape_targets
from infra.targets.kubernetes_map import manifests
from infra.targets.kubernetes_map.meta import mebibytes, millicores
from testbed.settings import settings_of
from tests.support.kubernetes import KUBE_BASE, gateway_deployment

TIMING = {"gatewayScrapeInterval": "45s", "gatewayScrapeTimeout": "20s"}


def _objects(token: bool) -> tuple[Any, list[dict[str, Any]]]:
    secrets = frozenset({"anthropicApiKey", *(["metricsToken"] if token else [])})
    settings = settings_of({**KUBE_BASE, **TIMING}, secrets, stack="prod")
    spec = build_stack(settings)
    return spec, manifests.objects(settings, spec)


def test_the_sidecar_asks_for_the_requests_and_limits_of_the_spec_service() -> None:
    spec, objects = _objects(token=True)
    [declared] = [s for s in spec.services if s.name == metrics_auth_service.NAME]
    containers = gateway_deployment(objects)["spec"]["template"]["spec"]["containers"]
    [sidecar] = [c for c in containers if c["name"] == metrics_auth_service.NAME]
    amounts = {"requests": declared.resources.requests, "limits": declared.resources.limits}
    assert sidecar["resources"] == {
        kind: {"cpu": millicores(a.cpu_millicores), "memory": mebibytes(a.memory_mb)} for kind, a in amounts.items()
    }


@pytest.mark.parametrize("token", [True, False], ids=["through-metrics-auth", "public-metrics"])
def test_the_service_monitor_scrapes_the_gateway_job_of_the_spec(token: bool) -> None:
    spec, objects = _objects(token)
    [job] = [t for t in scrape_targets(spec.services) if t.job == gateway.NAME]
    [monitor] = [o for o in objects if o["kind"] == "ServiceMonitor" and o["metadata"]["name"].endswith("-gateway")]
    [endpoint] = monitor["spec"]["endpoints"]
    assert (endpoint["path"], endpoint["interval"], endpoint["scrapeTimeout"]) == (
        job.metrics_path,
        job.interval,
        job.timeout,
    )
    assert (job.interval, job.timeout) == (TIMING["gatewayScrapeInterval"], TIMING["gatewayScrapeTimeout"])
