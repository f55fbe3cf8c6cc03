"""`Settings`: everything a stack can set, validated in one place for every consumer."""

from __future__ import annotations

from pydantic import PrivateAttr, model_validator

from infra.settings.groups import (
    AlertingSettings,
    BackupSettings,
    CoreSettings,
    DockerSettings,
    GatewaySettings,
    GrafanaSettings,
    HostSettings,
    KubernetesSettings,
    LoggingSettings,
    MonitoringSettings,
    OptionalPartsSettings,
)


# pydantic lists inherited fields from the last base to the first: this order puts
# core first in the generated Pulumi.yaml and README reference.
class Settings(
    HostSettings,
    LoggingSettings,
    BackupSettings,
    OptionalPartsSettings,
    GrafanaSettings,
    AlertingSettings,
    MonitoringSettings,
    KubernetesSettings,
    DockerSettings,
    GatewaySettings,
    CoreSettings,
):
    """All settings of one stack. Build it with `infra.settings.load`, not directly."""

    _stack: str = PrivateAttr("")
    _secrets_set: frozenset[str] = PrivateAttr(frozenset())

    @property
    def stack(self) -> str:
        return self._stack

    @property
    def secrets_set(self) -> frozenset[str]:
        """Secret keys the stack sets (their values are never held here)."""
        return self._secrets_set

    @property
    def is_prod(self) -> bool:
        return self.environment == "prod"

    @model_validator(mode="after")
    def _cross_checks(self) -> Settings:
        if self.swagger_ui_enabled and self.is_prod and not self.swagger_ui_force:
            raise ValueError(
                "swaggerUiEnabled = true is refused on environment 'prod' (it exposes the API "
                "explorer); set swaggerUiForce = true to accept that"
            )
        if self.grafana_anonymous_enabled and self.is_prod and not self.grafana_anonymous_force:
            raise ValueError(
                "grafanaAnonymousEnabled = true is refused on environment 'prod' (anyone reaching Grafana "
                "could read every dashboard); set grafanaAnonymousForce = true to accept that"
            )
        data, logs = self.host_data_dir + "/", self.host_log_dir + "/"
        if data.startswith(logs) or logs.startswith(data):
            raise ValueError(
                f"friday:hostDataDir = {self.host_data_dir!r} and friday:hostLogDir = {self.host_log_dir!r} "
                "must not contain each other (logrotate would rotate the databases' folder, or the logs "
                "would fill the data disk)"
            )
        return self
