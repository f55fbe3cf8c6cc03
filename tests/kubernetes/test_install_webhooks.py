"""install mode: the Prometheus Operator's admission webhooks never fail closed on the first `pulumi up`.

The stack's PrometheusRule and AlertmanagerConfig do not wait for kube-prometheus-stack (install_order.py),
so the API server may call the operator's webhooks before the operator serves them. `webhook_policy`
below is the choice kube-prometheus-stack 88.0.0's webhook configurations and its patch job make from the
values (read in the chart's templates, see docs/deployment.md), in our own words.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from infra.stack import build_stack
from infra.targets.kubernetes_map import install, manifests
from tests.support.kubernetes import variant_settings


def webhook_policy(values: dict[str, Any], *, is_install: bool, patch_enabled: bool) -> str:
    """failurePolicy of each webhook the chart renders: the value when given ('IgnoreOnInstallOnly' is
    Ignore on install and Fail on upgrade), else Ignore while the certificate patch job is on, else Fail."""
    given = values.get("prometheusOperator", {}).get("admissionWebhooks", {}).get("failurePolicy", "")
    if given == "IgnoreOnInstallOnly":
        return "Ignore" if is_install else "Fail"
    if given:
        return str(given)
    return "Ignore" if patch_enabled else "Fail"


def _rendered_values() -> dict[str, Any]:
    """kube-prometheus-stack's values as `render` writes them (kubernetes/charts/)."""
    settings = variant_settings("install")
    out = manifests.produce(settings, build_stack(settings))
    chart = yaml.safe_load(out[f"{manifests.CHARTS_DIR}/{install.KUBE_PROMETHEUS_STACK}.yaml"])
    assert chart["version"] == settings.kube_prometheus_stack_chart_version == "88.0.0", (
        "the webhook facts were read at chart 88.0.0: read the new chart's webhook templates, then update this"
    )
    values: dict[str, Any] = chart["values"]
    return values


@pytest.mark.parametrize("is_install", [True, False])
@pytest.mark.parametrize("patch_enabled", [True, False])
def test_operator_webhooks_ignore_failures_on_install_and_upgrade(is_install: bool, patch_enabled: bool) -> None:
    values = _rendered_values()
    assert webhook_policy(values, is_install=is_install, patch_enabled=patch_enabled) == "Ignore"
    # The webhooks stay on (they are what reviews rules applied by hand once the operator runs).
    assert values["prometheusOperator"]["admissionWebhooks"].get("enabled", True) is True


def test_the_model_of_the_chart_fails_closed_without_the_setting() -> None:
    """What the explicit value guards against: the chart's own default with its patch job off."""
    assert webhook_policy({}, is_install=True, patch_enabled=False) == "Fail"
    assert (
        webhook_policy(
            {"prometheusOperator": {"admissionWebhooks": {"failurePolicy": "IgnoreOnInstallOnly"}}},
            is_install=False,
            patch_enabled=True,
        )
        == "Fail"
    )
