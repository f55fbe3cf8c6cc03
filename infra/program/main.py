"""The Pulumi program: settings from the engine, the stack as data, then one target."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s
from pulumi.runtime import config as runtime_config

from infra import crds
from infra.preflight import EngineConfig, Outcome, preflight
from infra.program import secrets as program_secrets
from infra.program import tls as program_tls
from infra.settings import Settings, SettingsError
from infra.stack import gateway as gateway_service
from infra.stack.spec import StackSpec
from infra.targets import docker_map, registry
from infra.targets.docker import DockerStack
from infra.targets.kubernetes import KubernetesStack
from infra.targets.kubernetes_map import gateway_objects as kubernetes_gateway
from infra.targets.kubernetes_map import install as kubernetes_install
from infra.targets.kubernetes_map import install_order as kubernetes_install_order
from infra.targets.kubernetes_map import manifests as kubernetes_manifests


def engine_config() -> tuple[dict[str, str], set[str]]:
    """Every config value the engine passed in, and which of those keys are secret."""
    values: dict[str, str] = dict(runtime_config.get_config_env())
    values.update(runtime_config.CONFIG.get())
    secret = {k for k in values if runtime_config.is_config_secret(k)}
    secret |= set(runtime_config.get_config_secret_keys_env())
    return values, secret


def load_settings(root: Path | None = None) -> Outcome:
    """The same preflight as `python -m infra check --deployable`, on the engine's config.

    Pulumi runs the program in the project folder, beside the stack file it read the config from.
    """
    values, secret_keys = engine_config()
    outcome = preflight(pulumi.get_stack(), root or Path.cwd(), EngineConfig(values, frozenset(secret_keys)))
    if outcome.blockers:
        raise SettingsError(outcome.settings.stack, outcome.blockers)
    for warning in outcome.warnings:
        pulumi.log.warn(warning)
    return outcome


def run() -> pulumi.ComponentResource:
    """Declare every resource of the current stack. Bad settings fail before the first one."""
    outcome = load_settings()
    settings, spec = outcome.settings, outcome.spec
    return DEPLOY[registry.deployed(settings).name](settings, spec)


def run_docker(settings: Settings, spec: StackSpec) -> DockerStack:
    generated_tls = program_tls.self_signed(settings)
    secrets = program_secrets.resolve(settings, spec.secret_keys() - set(generated_tls))
    secrets.update(generated_tls)
    stack = DockerStack(docker_map.base_name(spec), spec, docker_map.policy(settings), secrets)
    pulumi.export("target", settings.target)
    pulumi.export("environment", settings.environment)
    pulumi.export("network", stack.network.name)
    pulumi.export("urls", stack.urls)
    pulumi.export("containers", {n: c.name for n, c in stack.containers.items()})
    pulumi.export("volumes", {n: v.name for n, v in stack.volumes.items()})
    pulumi.export("volumePurposes", stack.volume_purposes)
    gateway = stack.urls.get("gateway/http")
    if gateway:
        pulumi.export("gatewayUrl", gateway)
        pulumi.export("gatewayHealthUrl", f"{gateway}{gateway_service.HEALTH_PATH}")
        pulumi.export("gatewayMetricsUrl", f"{gateway}{gateway_service.METRICS_PATH}")
    for output, url in (("proxyUrl", "proxy/https"), ("swaggerUiUrl", "swagger-ui/http")):
        if url in stack.urls:
            pulumi.export(output, stack.urls[url])
    return stack


def run_kubernetes(settings: Settings, spec: StackSpec) -> KubernetesStack:
    """The same objects `render` writes, on the cluster of the kubeconfig context in settings."""
    objects = kubernetes_manifests.objects(settings, spec)
    keys = {key for o in objects if o["kind"] == "Secret" for key in kubernetes_manifests.secret_keys(o).values()}
    secrets = program_secrets.resolve(settings, keys)
    base = f"{spec.prefix}-{spec.stack}"
    provider = k8s.Provider(f"{base}-cluster", context=settings.kubernetes_context or None)
    charts = kubernetes_install.charts(settings)
    stack = KubernetesStack(
        base,
        objects=objects,
        charts=charts,
        crds_yaml=kubernetes_install.crds_yaml(settings) if charts else None,
        chart_needs={c.release: kubernetes_install_order.chart_needs(settings, c) for c in charts},
        secrets=secrets,
        provider=provider,
    )
    gateway = f"https://{settings.kubernetes_ingress_host}"
    pulumi.export("target", settings.target)
    pulumi.export("environment", settings.environment)
    pulumi.export("kubernetesContext", settings.kubernetes_context or "(kubeconfig current context)")
    pulumi.export("namespace", settings.kubernetes_namespace)
    pulumi.export("gatewayUrl", gateway)
    pulumi.export("gatewayHealthUrl", f"{gateway}{gateway_service.HEALTH_PATH}")
    pulumi.export("gatewayService", kubernetes_gateway.in_cluster_url(settings))
    pulumi.export("objects", [f"{o['kind']}/{o['metadata']['name']}" for o in objects])
    pulumi.export("volumeClaims", [o["metadata"]["name"] for o in objects if o["kind"] == "PersistentVolumeClaim"])
    pulumi.export("monitoringMode", settings.kubernetes_monitoring_mode)
    pulumi.export("monitoringNamespace", settings.kubernetes_monitoring_namespace)
    pulumi.export("charts", {c.release: f"{c.chart} {c.version}" for c in charts})
    return stack


# The Pulumi half of each target of infra/targets/registry.py that `pulumi up` deploys (bare metal is
# installed from its rendered files, never by Pulumi); tests/unit/test_target_registry.py keeps them in step.
Deploy = Callable[[Settings, StackSpec], pulumi.ComponentResource]
DEPLOY: dict[str, Deploy] = {registry.DOCKER.name: run_docker, registry.KUBERNETES.name: run_kubernetes}


def main() -> None:
    """Entry point used by __main__.py: report bad settings as a short error, not a traceback."""
    try:
        run()
    except (SettingsError, crds.CrdError) as err:
        raise pulumi.RunError(str(err)) from None
