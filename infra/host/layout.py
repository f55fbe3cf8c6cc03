"""Where things live on a bare-metal host: one place for every path the host files share."""

from __future__ import annotations

from infra.settings import Settings
from infra.stack import gateway

UNIT = "friday-gateway.service"
SERVICE = gateway.NAME
SYSLOG_IDENTIFIER = "friday-gateway"
ETC_DIR = "/etc/friday"
CONFIG_PATH = f"{ETC_DIR}/gateway.yaml"
ENV_PATH = f"{ETC_DIR}/gateway.env"
LOG_NAME = "gateway.log"

# Where each rendered file is installed (render writes them under host/<key>).
INSTALL = {
    "systemd/friday-gateway.service": f"/etc/systemd/system/{UNIT}",
    "sysusers/friday.conf": "/etc/sysusers.d/friday.conf",
    "tmpfiles/friday.conf": "/etc/tmpfiles.d/friday.conf",
    "logrotate/friday": "/etc/logrotate.d/friday",
    "journald/friday.conf": "/etc/systemd/journald.conf.d/friday.conf",
    "alloy/config.alloy": "/etc/alloy/config.alloy",
    "env/gateway.env.example": ENV_PATH,
    "gateway/gateway.yaml": CONFIG_PATH,
}


def service_user(settings: Settings) -> tuple[str, str]:
    """User and group of every bare-metal unit that touches the gateway's data: the gateway's own
    unit and the backup unit (sysusers creates both names with gatewayUid/gatewayGid)."""
    return settings.host_user, settings.host_user


def data_dir(settings: Settings) -> str:
    """The gateway's core.dataDir on the host: the gateway writes it, the backup unit reads it."""
    return settings.host_data_dir


def log_file(settings: Settings) -> str:
    return f"{settings.host_log_dir}/{LOG_NAME}"


def writes_file(settings: Settings) -> bool:
    return settings.host_log_target == "file"
