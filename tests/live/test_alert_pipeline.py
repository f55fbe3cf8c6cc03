"""End to end on 127.0.0.1: gateway double -> Prometheus -> Alertmanager -> webhook receiver.

Debian's prometheus (2.42) and prometheus-alertmanager (0.25) run with the RENDERED configs of
a stack that enables the webhook and heartbeat receivers and sets metricsToken, changed only by
tests/live/localize.py (addresses, intervals, the driven alert's `for`, secrets filled in).
The test drives friday_tasks_queue_depth over the HighQueueDepth threshold on the double,
waits for the alert at the webhook, then for its resolution, and checks that the Watchdog
reaches the heartbeat receiver and that every target is up. The measured detection latency is
printed and written to build/live/alert-latency.json (docs/monitoring.md quotes it).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
import yaml

from infra import render
from infra.alerting import thresholds
from infra.monitoring import endpoints
from infra.settings import validate
from infra.settings.load import RawConfig
from infra.stack import gateway as gateway_service
from tests.live import localize
from tests.support.gateway_double import GatewayDouble
from tests.support.paths import REPO_ROOT

pytestmark = pytest.mark.live

TOKEN = "live-test-admin-key-5f1c9e"
DRIVEN = thresholds.HIGH_QUEUE_DEPTH
START_TIMEOUT = 30.0
ALERT_TIMEOUT = 60.0
POLL = 0.1
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, logs: Callable[[], str]) -> T:
    """Poll probe until it returns something truthy; bounded by time and by count."""
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / POLL) + 1):
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            break
        time.sleep(POLL)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{logs()}")


@dataclass
class Received:
    at: float
    path: str
    body: dict[str, Any]


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1 recording every POST with its arrival time."""

    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                with receiver.lock:
                    receiver.received.append(Received(time.monotonic(), self.path, body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def find(self, path: str, status: str, alertname: str, after: float = 0.0) -> Received | None:
        with self.lock:
            for r in self.received:
                if (
                    r.path == path
                    and r.at >= after
                    and r.body.get("status") == status
                    and any(a["labels"].get("alertname") == alertname for a in r.body.get("alerts", []))
                ):
                    return r
        return None


@contextlib.contextmanager
def serving(receiver: Receiver) -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), receiver.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@contextlib.contextmanager
def process(args: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def rendered_command(out: Path, service: str) -> list[str]:
    return list(json.loads((out / f"services/{service}.json").read_text())["command"])


def replace_flag(command: list[str], flag: str, value: str) -> list[str]:
    found = [c for c in command if c.startswith(f"{flag}=")]
    assert len(found) == 1, f"{flag} not in the rendered command {command}"
    return [f"{flag}={value}" if c.startswith(f"{flag}=") else c for c in command]


def query(prom: str, expr: str) -> list[dict[str, Any]]:
    r = requests.get(f"{prom}/api/v1/query", params={"query": expr}, timeout=5)
    r.raise_for_status()
    result: list[dict[str, Any]] = r.json()["data"]["result"]
    return result


def ready(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def prepare_prometheus(out: Path, tmp: Path, addresses: dict[str, str], prom_port: int) -> list[str]:
    """The rendered config folder and command, localized (tests/live/localize.py)."""
    prom_dir = tmp / "prometheus"
    shutil.copytree(out / "files/prometheus/etc/prometheus", prom_dir)
    (prom_dir / "secrets").mkdir()
    (prom_dir / "secrets/gateway-credential").write_text(TOKEN)
    config = localize.prometheus_config(yaml.safe_load((prom_dir / "prometheus.yml").read_text()), addresses)
    (prom_dir / "prometheus.yml").write_text(yaml.safe_dump(config))
    original_for = localize.shorten_for(prom_dir / "rules/gateway.yml", DRIVEN.alert)
    assert original_for == DRIVEN.for_
    cmd = rendered_command(out, "prometheus")
    cmd = replace_flag(cmd, "--config.file", str(prom_dir / "prometheus.yml"))
    cmd = replace_flag(cmd, "--storage.tsdb.path", str(tmp / "prometheus-data"))
    cmd = replace_flag(cmd, "--web.listen-address", f"127.0.0.1:{prom_port}")
    return [*cmd, localize.RESEND_FLAG]


def prepare_alertmanager(out: Path, tmp: Path, hook_url: str, am_port: int) -> list[str]:
    """The rendered config with the receivers' URLs filled in, and the rendered command."""
    am_file = tmp / "alertmanager.yml"
    am_file.write_text(
        localize.alertmanager_config(
            (out / "files/alertmanager/etc/alertmanager/alertmanager.yml").read_text(),
            {"alertWebhookUrl": f"{hook_url}/alerts", "alertHeartbeatUrl": f"{hook_url}/heartbeat"},
        )
    )
    cmd = rendered_command(out, "alertmanager")
    assert "--cluster.listen-address=" in cmd
    cmd = replace_flag(cmd, "--config.file", str(am_file))
    cmd = replace_flag(cmd, "--storage.path", str(tmp / "alertmanager-data"))
    return replace_flag(cmd, "--web.listen-address", f"127.0.0.1:{am_port}")


def check_metric_names_and_constants(prom_url: str, gw: GatewayDouble, memory_limit_mb: int) -> None:
    # The self-monitoring alerts use these names: they exist in the real binaries.
    for metric in (
        "prometheus_rule_evaluation_failures_total",
        "prometheus_config_last_reload_successful",
        "alertmanager_notifications_failed_total",
        "alertmanager_config_last_reload_successful",
    ):
        assert query(prom_url, metric), f"{metric} has no series"
    # The per-stack constants are loaded and join with the gateway's real series.
    [limit] = query(prom_url, "friday:memory_limit_mb")
    assert limit["value"][1] == str(memory_limit_mb)
    [share] = query(prom_url, "friday_memory_used_mb / on() group_left() friday:memory_limit_mb")
    assert share["metric"]["job"] == "gateway"
    assert float(share["value"][1]) == pytest.approx(gw.values.value("friday_memory_used_mb") / memory_limit_mb)


def check_inhibition(am_url: str) -> None:
    """The real Alertmanager applies the rendered inhibit rule: critical silences warning, same alert and instance."""
    base = {"alertname": "InhibitionProbe", "stack": "live", "environment": "live"}
    alerts = [
        {"labels": {**base, "severity": "critical", "instance": "a:1"}},
        {"labels": {**base, "severity": "warning", "instance": "a:1"}},
        {"labels": {**base, "severity": "warning", "instance": "b:1"}},
    ]
    requests.post(f"{am_url}/api/v2/alerts", json=alerts, timeout=5).raise_for_status()

    def states() -> dict[tuple[str, str], str] | None:
        r = requests.get(f"{am_url}/api/v2/alerts", params={"filter": 'alertname="InhibitionProbe"'}, timeout=5)
        found = {(a["labels"]["severity"], a["labels"]["instance"]): a["status"]["state"] for a in r.json()}
        # Inhibition is computed when alerts are listed; wait until all three are there.
        return found if len(found) == 3 else None

    found = wait_for("the probe alerts in Alertmanager", states, START_TIMEOUT, lambda: "")
    assert found == {
        ("critical", "a:1"): "active",
        ("warning", "a:1"): "suppressed",
        ("warning", "b:1"): "active",
    }


def record_latency(latency: float, resolve_latency: float) -> dict[str, Any]:
    interval = float(localize.INTERVAL.rstrip("s"))
    for_s = float(localize.FOR_OVERRIDE.rstrip("s"))
    record: dict[str, Any] = {
        "alert": DRIVEN.alert,
        "for_s": for_s,
        "scrape_interval_s": interval,
        "evaluation_interval_s": interval,
        "group_wait_s": interval,
        # for + one scrape + one evaluation + group_wait: each stage waiting its full interval.
        "floor_s": for_s + 3 * interval,
        # Nothing can beat `for` + group_wait (scrape and evaluation may come right after the change).
        "minimum_s": for_s + interval,
        "detection_latency_s": round(latency, 2),
        "resolve_latency_s": round(resolve_latency, 2),
        "prometheus": "Debian 2.42",
        "alertmanager": "Debian 0.25",
    }
    print(f"\nalert pipeline: {json.dumps(record)}")
    (REPO_ROOT / "build/live").mkdir(parents=True, exist_ok=True)
    (REPO_ROOT / "build/live/alert-latency.json").write_text(json.dumps(record, indent=2) + "\n")
    return record


def test_alert_fires_reaches_the_webhook_and_resolves(tmp_path: Path) -> None:
    secrets = frozenset({"metricsToken", "alertWebhookUrl", "alertHeartbeatUrl"})
    settings = validate(RawConfig("live", {"environment": "live", "alertReceivers": "webhook,heartbeat"}, secrets))
    out = tmp_path / "render"
    render.write(settings, out)

    receiver = Receiver()
    prom_port, am_port = free_port(), free_port()
    prom_url, am_url = f"http://127.0.0.1:{prom_port}", f"http://127.0.0.1:{am_port}"
    prom_log, am_log = tmp_path / "prometheus.log", tmp_path / "alertmanager.log"

    def logs() -> str:
        parts = []
        for log in (prom_log, am_log):
            text = log.read_text(errors="replace") if log.exists() else ""
            parts.append(f"--- {log.name} (last lines)\n" + "\n".join(text.splitlines()[-15:]))
        with receiver.lock:
            parts.append(f"--- receiver got {[(r.path, r.body.get('status')) for r in receiver.received]}")
        return "\n".join(parts)

    with GatewayDouble(token=TOKEN) as gw, serving(receiver) as hook:
        hook_url = f"http://127.0.0.1:{hook.server_address[1]}"
        addresses = {
            f"{gateway_service.NAME}:{settings.gateway_port}": f"127.0.0.1:{gw.port}",
            f"{endpoints.PROMETHEUS}:{endpoints.PROMETHEUS_PORT}": f"127.0.0.1:{prom_port}",
            f"{endpoints.ALERTMANAGER}:{endpoints.ALERTMANAGER_PORT}": f"127.0.0.1:{am_port}",
        }
        prom_cmd = prepare_prometheus(out, tmp_path, addresses, prom_port)
        am_cmd = prepare_alertmanager(out, tmp_path, hook_url, am_port)

        with (
            process(["prometheus-alertmanager", *am_cmd], am_log),
            process(["prometheus", *prom_cmd], prom_log),
        ):
            wait_for("Alertmanager ready", lambda: ready(f"{am_url}{endpoints.READY_PATH}"), START_TIMEOUT, logs)
            wait_for("Prometheus ready", lambda: ready(f"{prom_url}{endpoints.READY_PATH}"), START_TIMEOUT, logs)

            # Every target that runs here is scraped successfully, the gateway with its token.
            def all_up() -> dict[str, str] | None:
                up = {r["metric"]["job"]: r["value"][1] for r in query(prom_url, "up")}
                return up if up == {"gateway": "1", "prometheus": "1", "alertmanager": "1"} else None

            wait_for("up == 1 for gateway, prometheus, alertmanager", all_up, START_TIMEOUT, logs)
            assert ("GET", "/metrics", 200) in gw.requests

            check_metric_names_and_constants(prom_url, gw, settings.gateway_memory_mb)
            check_inhibition(am_url)

            # The Watchdog reaches the heartbeat receiver (and only that one).
            wait_for(
                "Watchdog at the heartbeat receiver",
                lambda: receiver.find("/heartbeat", "firing", thresholds.WATCHDOG.alert),
                ALERT_TIMEOUT,
                logs,
            )
            assert receiver.find("/alerts", "firing", thresholds.WATCHDOG.alert) is None

            # Drive the queue depth over the threshold; measure until the webhook has it.
            assert receiver.find("/alerts", "firing", DRIVEN.alert) is None
            changed = time.monotonic()
            gw.values.update({"friday_tasks_queue_depth": DRIVEN.value + 30})
            fired = wait_for(
                f"{DRIVEN.alert} firing at the webhook",
                lambda: receiver.find("/alerts", "firing", DRIVEN.alert, changed),
                ALERT_TIMEOUT,
                logs,
            )
            latency = fired.at - changed
            [alert] = [a for a in fired.body["alerts"] if a["labels"]["alertname"] == DRIVEN.alert]
            assert alert["labels"]["severity"] == DRIVEN.severity
            assert alert["labels"]["stack"] == "live" and alert["labels"]["environment"] == "live"
            assert alert["labels"]["job"] == "gateway"
            assert (
                alert["annotations"]["runbook_url"]
                == "https://github.com/maccracken/friday-infra/blob/main/docs/troubleshooting.md#highqueuedepth"
            )
            assert alert["annotations"]["description"].startswith(f"{DRIVEN.value + 30:g} tasks are queued")

            # Back under the threshold: the resolution reaches the webhook too.
            back = time.monotonic()
            gw.values.update({"friday_tasks_queue_depth": 0})
            resolved = wait_for(
                f"{DRIVEN.alert} resolved at the webhook",
                lambda: receiver.find("/alerts", "resolved", DRIVEN.alert, back),
                ALERT_TIMEOUT,
                logs,
            )
            resolve_latency = resolved.at - back

    record = record_latency(latency, resolve_latency)
    # Far beyond the floor would mean something in the path waits needlessly.
    assert record["minimum_s"] <= latency < record["floor_s"] + 10, record
