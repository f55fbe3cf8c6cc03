"""Nobody silences alerts without a credential (issue 23 item 5), live on 127.0.0.1.

Debian's prometheus-alertmanager (0.25) and prometheus (2.42) run with the RENDERED configs of stack
`live` (testbed/live_stack.py): Alertmanager with the rendered `--web.config.file`, its
placeholder filled with a bcrypt hash of a password made for the run; Prometheus with its rendered
`basic_auth` blocks pointing at a file holding that password. The real gateway is scraped as usual.

Shown: a silence POST without the credential, or with a wrong one, is refused (401) and creates
nothing; with it, it is accepted and the silence is there; Prometheus still posts alerts (the
Watchdog reaches Alertmanager and the heartbeat receiver) and scrapes Alertmanager (`up` 1);
Prometheus' admin and lifecycle endpoints are refused (the flags that would enable them are not in
the rendered command) while its read API answers.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from infra.alerting import thresholds
from infra.monitoring import web_auth
from testbed import localize
from testbed.live_stack import LiveStack, live_settings, live_stack
from testbed.processes import wait_for
from tests.support.real_gateway import RealGateway

pytestmark = pytest.mark.live

ALERT_TIMEOUT = 60.0


def silence() -> dict[str, Any]:
    now = datetime.datetime.now(datetime.UTC)
    return {
        "matchers": [{"name": "alertname", "value": thresholds.WATCHDOG.alert, "isRegex": False}],
        "startsAt": now.isoformat(),
        "endsAt": (now + datetime.timedelta(minutes=5)).isoformat(),
        "createdBy": "test_web_auth",
        "comment": "silence everything",
    }


def silences(stack: LiveStack) -> list[dict[str, Any]]:
    r = requests.get(f"{stack.alertmanager}/api/v2/silences", timeout=10)
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()
    return found


def watchdog_in_alertmanager(stack: LiveStack) -> bool | None:
    r = requests.get(f"{stack.alertmanager}/api/v2/alerts", timeout=5)
    r.raise_for_status()
    return any(a["labels"].get("alertname") == thresholds.WATCHDOG.alert for a in r.json()) or None


def test_alertmanager_wants_its_credential_and_prometheus_admin_is_off(tmp_path: Path) -> None:
    settings = live_settings()
    with RealGateway.start(tmp_path / "gateway", environment=settings.gateway_environment_value) as gw:
        key = gw.create_api_key("admin")
        with live_stack(tmp_path, gw, key, data_dir=gw.data_dir) as stack:
            bare = stack.alertmanager_bare
            url = f"{bare}/api/v2/silences"
            # Without a credential, and with a wrong one: refused, nothing created.
            assert requests.post(url, json=silence(), timeout=10).status_code == 401
            wrong = requests.post(url, json=silence(), auth=(web_auth.USER, "not-the-password"), timeout=10)
            assert wrong.status_code == 401
            for path in ("/api/v2/alerts", "/api/v2/status", "/-/reload", "/metrics", "/"):
                assert requests.get(f"{bare}{path}", timeout=10).status_code == 401, path
            assert silences(stack) == []
            # With the credential: accepted.
            ok = requests.post(url, json=silence(), auth=(web_auth.USER, stack.alertmanager_password), timeout=10)
            assert ok.status_code == 200, ok.text
            [made] = silences(stack)
            assert made["id"] == ok.json()["silenceID"] and made["status"]["state"] == "active"

            # Prometheus still posts alerts (basic auth from its password file) and scrapes Alertmanager.
            wait_for("the Watchdog at Alertmanager", lambda: watchdog_in_alertmanager(stack), ALERT_TIMEOUT, stack.logs)
            [am_up] = stack.query('up{job="alertmanager"}')
            assert am_up["value"][1] == "1"
            assert stack.query("prometheus_notifications_errors_total")[0]["value"][1] == "0"

            # Prometheus: read API open, admin and lifecycle endpoints refused.
            command = localize.rendered_command(stack.render, "prometheus")
            assert not [c for c in command if "enable-admin-api" in c or "enable-lifecycle" in c], command
            assert not [c for c in command if "remote-write-receiver" in c], command
            prom = stack.prometheus
            # Prometheus 2.42 answers a disabled admin API with 500 "admin APIs disabled", the
            # lifecycle endpoints with 403 and the remote-write receiver with 404, each saying why.
            admin = ("delete_series?match[]=up", "snapshot", "clean_tombstones")
            refused = {f"admin/tsdb/{a}": (500, "admin APIs disabled") for a in admin}
            refused |= {"-/quit": (403, "Lifecycle API is not enabled"), "-/reload": (403, "Lifecycle API")}
            refused["api/v1/write"] = (404, "remote write receiver needs to be enabled")
            for path, (code, why) in refused.items():
                url = f"{prom}/api/v1/{path}" if path.startswith("admin/") else f"{prom}/{path}"
                r = requests.post(url, timeout=10)
                assert (r.status_code, why in r.text) == (code, True), (path, r.status_code, r.text)
            assert requests.get(f"{prom}/-/healthy", timeout=10).status_code == 200, "Prometheus did not quit"
            assert stack.query("up"), "the read API answers"
