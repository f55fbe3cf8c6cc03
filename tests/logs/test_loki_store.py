"""Loki's store is described once (infra/stack/loki.py `Store`): the Docker service's config.yaml and the
Kubernetes install chart's values say the same schema, retention, tenancy, replication and compactor."""

from __future__ import annotations

from typing import Any

from infra.stack import loki
from infra.targets.kubernetes_map import install
from testbed.settings import settings_of


def test_docker_config_and_chart_values_agree_on_the_store() -> None:
    settings = settings_of({"lokiRetentionPeriod": "2w"})
    docker: dict[str, Any] = loki.loki_config(settings)
    chart: dict[str, Any] = install.loki_chart(settings).values["loki"]
    assert chart["schemaConfig"] == docker["schema_config"]
    assert chart["limits_config"]["retention_period"] == docker["limits_config"]["retention_period"] == "336h"
    assert chart["auth_enabled"] is docker["auth_enabled"] is False
    assert chart["commonConfig"]["replication_factor"] == docker["common"]["replication_factor"] == 1
    assert [chart["storage"]["type"]] == list(docker["common"]["storage"])
    assert chart["compactor"] == {k: docker["compactor"][k] for k in ("retention_enabled", "delete_request_store")}
