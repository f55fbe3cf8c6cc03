"""Grafana: datasources and dashboards provisioned from files, admin password from a secret.

Everything Grafana reads at start (provisioning YAML, dashboard JSON, the admin password
file) is uploaded into the service's config_dir; GF_PATHS_PROVISIONING points there. The
datasource uids are the ones every dashboard references (infra.dashboards.datasources).
"""

from __future__ import annotations

from typing import Any

from infra import yamlio
from infra.dashboards import committed
from infra.dashboards import datasources as ds
from infra.monitoring import web_auth
from infra.settings import Settings
from infra.stack import upstreams
from infra.stack.parts import Part
from infra.stack.spec import (
    WGET,
    ConfigFile,
    EnvValue,
    Health,
    HostBinding,
    HttpCheck,
    Image,
    Metrics,
    Mount,
    Port,
    Reach,
    SecretFile,
    SecretRef,
    Service,
    Volume,
    Workload,
    resources,
)

NAME = "grafana"
# The image's own user: uid 472, group 0 (the image grants its paths to group 0; gid 0 is no privilege).
UID = 472
GID = 0
HTTP_PORT = 3000
HTTP = "http"  # the name of that port (UI, API, its own /metrics)
HEALTH_PATH = "/api/health"
DATA_VOLUME = "grafana-data"
DATA_DIR = "/var/lib/grafana"
CONFIG_DIR = "/etc/friday-grafana"
PROVISIONING_DIR = f"{CONFIG_DIR}/provisioning"
DATASOURCES_PATH = f"{PROVISIONING_DIR}/datasources/friday.yaml"
DASHBOARD_PROVIDERS_PATH = f"{PROVISIONING_DIR}/dashboards/friday.yaml"
DASHBOARDS_DIR = f"{CONFIG_DIR}/dashboards"
ADMIN_PASSWORD_PATH = f"{CONFIG_DIR}/secrets/admin-password"
ADMIN_PASSWORD_SECRET = "grafanaAdminPassword"
# Without its own key Grafana encrypts stored secrets (datasource passwords, contact points) with
# the default key published in its source.
SECRET_KEY_PATH = f"{CONFIG_DIR}/secrets/secret-key"
SECRET_KEY_SECRET = "grafanaSecretKey"
ALERTMANAGER_PASSWORD_PATH = f"{CONFIG_DIR}/{web_auth.PASSWORD_FILE_NAME}"
ADMIN_USER = "admin"
HOME_DASHBOARD = "gateway.json"
DASHBOARD_FOLDER = "F.R.I.D.A.Y."
DASHBOARD_FOLDER_UID = "friday"

UPSTREAM_OF: dict[str, upstreams.Upstream] = {
    ds.PROMETHEUS.uid: upstreams.PROMETHEUS,
    ds.LOKI.uid: upstreams.LOKI,
    ds.ALERTMANAGER.uid: upstreams.ALERTMANAGER,
}


def datasources_config() -> dict[str, Any]:
    """Provisioning of the three datasources, each under the fixed uid dashboards use."""
    json_data: dict[str, dict[str, Any]] = {
        ds.PROMETHEUS.uid: {"httpMethod": "POST", "alertmanagerUid": ds.ALERTMANAGER.uid},
        ds.LOKI.uid: {"maxLines": 1000},
        # Grafana reads alerts from the stack's Prometheus Alertmanager; Grafana-managed alerts stay off.
        ds.ALERTMANAGER.uid: {"implementation": "prometheus", "handleGrafanaManagedAlerts": False},
    }
    # Alertmanager wants its web credential (infra/monitoring/web_auth.py); Grafana reads the
    # password from its own secret file when it provisions the datasource.
    auth: dict[str, dict[str, Any]] = {
        ds.ALERTMANAGER.uid: {
            "basicAuth": True,
            "basicAuthUser": web_auth.USER,
            "secureJsonData": {"basicAuthPassword": f"$__file{{{ALERTMANAGER_PASSWORD_PATH}}}"},
        }
    }
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": source.name,
                "uid": source.uid,
                "type": source.type,
                "access": "proxy",
                "url": UPSTREAM_OF[source.uid].url,
                "isDefault": source is ds.PROMETHEUS,
                "editable": False,
                "jsonData": json_data[source.uid],
                **auth.get(source.uid, {}),
            }
            for source in ds.DATASOURCES
        ],
    }


def dashboard_providers_config() -> dict[str, Any]:
    """One file provider: the stack's dashboards, read-only in the UI (they are code)."""
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": "friday",
                "orgId": 1,
                "folder": DASHBOARD_FOLDER,
                "folderUid": DASHBOARD_FOLDER_UID,
                "type": "file",
                "disableDeletion": True,
                "allowUiUpdates": False,
                "updateIntervalSeconds": 60,
                "options": {"path": DASHBOARDS_DIR, "foldersFromFilesStructure": False},
            }
        ],
    }


def grafana_env(settings: Settings) -> dict[str, EnvValue]:
    env: dict[str, EnvValue] = {
        "GF_PATHS_PROVISIONING": PROVISIONING_DIR,
        "GF_PATHS_DATA": DATA_DIR,
        # Console only: the root filesystem is read-only, and Docker rotates stdout.
        "GF_LOG_MODE": "console",
        "GF_SERVER_HTTP_PORT": str(HTTP_PORT),
        "GF_SECURITY_ADMIN_USER": ADMIN_USER,
        "GF_SECURITY_ADMIN_PASSWORD__FILE": ADMIN_PASSWORD_PATH,
        "GF_SECURITY_SECRET_KEY__FILE": SECRET_KEY_PATH,
        "GF_SECURITY_DISABLE_GRAVATAR": "true",
        "GF_USERS_ALLOW_SIGN_UP": "false",
        "GF_AUTH_ANONYMOUS_ENABLED": "true" if settings.grafana_anonymous_enabled else "false",
        "GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH": f"{DASHBOARDS_DIR}/{HOME_DASHBOARD}",
        # No calls home and no plugin downloads at start: the stack runs what it pinned.
        "GF_ANALYTICS_REPORTING_ENABLED": "false",
        "GF_ANALYTICS_CHECK_FOR_UPDATES": "false",
        "GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES": "false",
        "GF_NEWS_NEWS_FEED_ENABLED": "false",
        "GF_PLUGINS_PREINSTALL_DISABLED": "true",
    }
    if settings.grafana_anonymous_enabled:
        env["GF_AUTH_ANONYMOUS_ORG_ROLE"] = "Viewer"
    return env


def health() -> Health:
    # busybox wget is part of the Alpine-based image; /api/health needs no login.
    return Health(HttpCheck(HTTP, HEALTH_PATH, WGET), interval_s=15, start_period_s=30)


def config_files() -> tuple[ConfigFile, ...]:
    files = [
        ConfigFile(DATASOURCES_PATH, yamlio.safe_dump(datasources_config(), sort_keys=False)),
        ConfigFile(DASHBOARD_PROVIDERS_PATH, yamlio.safe_dump(dashboard_providers_config(), sort_keys=False)),
    ]
    files += [ConfigFile(f"{DASHBOARDS_DIR}/{name}", text) for name, text in sorted(committed.files().items())]
    return tuple(files)


def build(settings: Settings) -> Part:
    volume = Volume(
        name=DATA_VOLUME,
        purpose="Grafana database (users, preferences), plugins",
        owner_uid=UID,
        owner_gid=GID,
        size_gb=2,
    )
    port = settings.grafana_host_port
    service = Service(
        name=NAME,
        image=Image(settings.grafana_image, settings.grafana_tag),
        uid=UID,
        gid=GID,
        # Its SQLite database: one Grafana per volume.
        workload=Workload.SINGLE_WRITER,
        resources=resources(settings.grafana_memory_mb, settings.grafana_cpu_millicores),
        health=health(),
        env=grafana_env(settings),
        ports=(Port(HTTP, HTTP_PORT, Reach.OPERATOR, HostBinding(str(settings.grafana_bind_address), port)),),
        # Grafana serves its own /metrics on its HTTP port (enabled by default, no credential).
        metrics=Metrics(HTTP),
        mounts=(Mount(DATA_VOLUME, DATA_DIR),),
        config_dir=CONFIG_DIR,
        files=config_files(),
        secret_files=(
            SecretFile(ADMIN_PASSWORD_PATH, SecretRef(ADMIN_PASSWORD_SECRET)),
            SecretFile(SECRET_KEY_PATH, SecretRef(SECRET_KEY_SECRET)),
            SecretFile(ALERTMANAGER_PASSWORD_PATH, SecretRef(web_auth.PASSWORD_KEY)),
        ),
    )
    return Part(services=(service,), volumes=(volume,))
