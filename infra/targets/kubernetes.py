"""Kubernetes target: creates exactly the objects of infra.targets.kubernetes_map.manifests, nothing more.

Generic over objects: the manifests (plain dicts, the same `render` writes) are handed to the
typed pulumi-kubernetes resource of their kind. What this layer adds is only what Pulumi knows
and the data does not: secret values (Secrets' `<secret:KEY>` placeholders become secret
Outputs), `protect` on the volume claims, and ordering: each object after its namespace; in install mode each chart and
each custom resource after what it really needs (infra.targets.kubernetes_map.install_order), never
after the stack's workloads or its Ingress.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from infra.targets.kubernetes_map import gateway_api, install, install_order, manifests
from infra.targets.kubernetes_map.meta import Manifest

ResourceFactory = Callable[..., pulumi.CustomResource]

BUILT_IN: dict[tuple[str, str], ResourceFactory] = {
    ("v1", "Namespace"): k8s.core.v1.Namespace,
    ("v1", "ConfigMap"): k8s.core.v1.ConfigMap,
    ("v1", "Secret"): k8s.core.v1.Secret,
    ("v1", "PersistentVolumeClaim"): k8s.core.v1.PersistentVolumeClaim,
    ("v1", "Service"): k8s.core.v1.Service,
    ("apps/v1", "Deployment"): k8s.apps.v1.Deployment,
    ("batch/v1", "CronJob"): k8s.batch.v1.CronJob,
    ("networking.k8s.io/v1", "Ingress"): k8s.networking.v1.Ingress,
    ("networking.k8s.io/v1", "NetworkPolicy"): k8s.networking.v1.NetworkPolicy,
}
# Volume claims hold the gateway's databases and their backups: `pulumi destroy` must not
# delete them by accident (unprotect with `pulumi state unprotect` first, on purpose).
PROTECTED_KINDS = {"PersistentVolumeClaim"}


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def logical_name(base: str, obj: Manifest) -> str:
    meta = obj["metadata"]
    where = f"{meta['namespace']}-" if "namespace" in meta else ""
    return f"{base}-{obj['kind'].lower()}-{where}{meta['name']}"


def _secret_data(obj: Manifest, secrets: Mapping[str, pulumi.Output[str]]) -> pulumi.Output[dict[str, str]]:
    """stringData with every placeholder replaced by its secret Output; the whole map is secret."""
    placeholders = manifests.secret_keys(obj)
    items: dict[str, pulumi.Input[str]] = dict(obj["stringData"])
    for data_key, secret_key in placeholders.items():
        items[data_key] = secrets[secret_key]
    keys = list(items)
    combined = pulumi.Output.all(*[items[k] for k in keys]).apply(
        lambda values: {k: str(v) for k, v in zip(keys, values, strict=True)}
    )
    return pulumi.Output.secret(combined)


class KubernetesStack(pulumi.ComponentResource):
    """Every object of one stack on a cluster, and in install mode the monitoring charts."""

    def __init__(
        self,
        name: str,
        *,
        objects: Sequence[Manifest],
        charts: Sequence[install.Chart],
        crds_yaml: str | None,
        chart_needs: Mapping[str, install_order.Needs],
        secrets: Mapping[str, pulumi.Output[str]],
        provider: k8s.Provider,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("friday:kubernetes:Stack", name, None, opts)
        self._base = name
        self._provider = provider
        self.resources: dict[str, pulumi.CustomResource] = {}
        self.namespaces: dict[str, pulumi.CustomResource] = {}
        self._by_key: dict[install_order.ObjectKey, pulumi.CustomResource] = {}

        built_in = [o for o in objects if not manifests.is_custom(o)]
        custom = [o for o in objects if manifests.is_custom(o)]
        for obj in built_in:
            self.resources[logical_name(name, obj)] = self._create(obj, secrets, self._namespace_deps(obj))

        # install mode: the operator's CRDs; each chart and custom resource after what it needs.
        self.crds: pulumi.Resource | None = None
        if crds_yaml is not None:
            # The bytes checked against their pinned sha256 (install.crds_yaml), not a URL or file
            # read again later.
            self.crds = k8s.yaml.v2.ConfigGroup(
                f"{name}-prometheus-operator-crds",
                yaml=crds_yaml,
                opts=pulumi.ResourceOptions(parent=self, provider=provider),
            )
        self.releases: dict[str, k8s.helm.v3.Release] = {}
        for chart in charts:
            self.releases[chart.release] = k8s.helm.v3.Release(
                f"{name}-{chart.release}",
                name=chart.release,
                chart=chart.chart,
                version=chart.version,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart.repository),
                namespace=chart.namespace,
                values=chart.values,
                # The program applied the CRDs (self.crds); the chart's own copy stays out.
                skip_crds=True,
                atomic=True,
                cleanup_on_fail=True,
                timeout=900,
                opts=pulumi.ResourceOptions(
                    parent=self, provider=provider, depends_on=self._needed(chart_needs[chart.release])
                ),
            )
        for obj in custom:
            needs = install_order.custom_resource_needs(obj["metadata"]["namespace"])
            self.resources[logical_name(name, obj)] = self._create(obj, secrets, self._needed(needs))

        self.register_outputs(
            {
                "objects": [f"{o['kind']}/{o['metadata']['name']}" for o in objects],
                "charts": {c.release: c.version for c in charts},
            }
        )

    def _needed(self, needs: install_order.Needs) -> list[pulumi.Resource]:
        """The resources of `needs` this stack made (a namespace it does not create is the cluster's)."""
        deps: list[pulumi.Resource] = [self._by_key[key] for key in needs.objects if key in self._by_key]
        if needs.crds and self.crds is not None:
            deps.append(self.crds)
        return deps

    def _namespace_deps(self, obj: Manifest) -> list[pulumi.Resource]:
        ns = obj["metadata"].get("namespace")
        return [self.namespaces[ns]] if ns in self.namespaces else []

    def _create(
        self, obj: Manifest, secrets: Mapping[str, pulumi.Output[str]], depends_on: list[pulumi.Resource]
    ) -> pulumi.CustomResource:
        opts = pulumi.ResourceOptions(
            parent=self,
            provider=self._provider,
            depends_on=depends_on,
            protect=obj["kind"] in PROTECTED_KINDS,
            # Deleting the stack or the object in Pulumi leaves the claim (and its data) in the cluster.
            retain_on_delete=obj["kind"] in PROTECTED_KINDS,
        )
        resource_name = logical_name(self._base, obj)
        if manifests.is_custom(obj) or gateway_api.is_gateway_api(obj):
            resource: pulumi.CustomResource = k8s.apiextensions.CustomResource(
                resource_name,
                api_version=obj["apiVersion"],
                kind=obj["kind"],
                metadata=obj["metadata"],
                spec=obj["spec"],
                opts=opts,
            )
            return resource
        factory = BUILT_IN[(obj["apiVersion"], obj["kind"])]
        args: dict[str, Any] = {_snake(k): v for k, v in obj.items() if k not in ("apiVersion", "kind")}
        if obj["kind"] == "Secret":
            args["string_data"] = _secret_data(obj, secrets)
        resource = factory(resource_name, **args, opts=opts)
        if obj["kind"] == "Namespace":
            self.namespaces[obj["metadata"]["name"]] = resource
        meta = obj["metadata"]
        self._by_key[(obj["kind"], meta.get("namespace", ""), meta["name"])] = resource
        return resource
