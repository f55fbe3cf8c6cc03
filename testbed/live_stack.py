"""The stack's monitoring, live on 127.0.0.1 from its RENDERED configs: what the live tests run.

    with RealGateway.start(tmp_path / "gw") as gw:
        with live_stack(tmp_path, gw, gw.create_api_key("admin"), data_dir=gw.data_dir) as stack:
            stack.query("up"); stack.receiver.find(...)

The gateway is the real one (tests/support/real_gateway.py) or, for a test that must drive it into a
state the real one cannot reach on demand, the double: anything with the `port` it listens on at
127.0.0.1.

Renders the stack `live` (webhook and heartbeat receivers, metricsToken set), localizes it
(testbed/localize.py) and runs Debian's Alertmanager, Prometheus and Caddy (the rendered
metrics-auth proxy, which adds the gateway's X-API-Key to the gateway job's scrapes) plus the
backup service's own `serve` command (on the gateway's data folder, or a fresh one with the seven
databases when the gateway is the double), next to a
webhook receiver recording what Alertmanager delivers. Waits, bounded, until every scrape
job that runs here is up. Every process is stopped on leaving.
"""

from __future__ import annotations

import contextlib
import functools
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

import requests
import yaml

from infra import render
from infra.monitoring import endpoints, web_auth
from infra.settings import Settings
from infra.settings.base import duration_seconds
from infra.stack import backup, metrics_auth
from testbed import localize
from testbed.processes import binary, free_port, http_ok, log_tail, process, wait_for
from testbed.settings import settings_of
from testbed.sqlite_writer import create as create_databases

START_TIMEOUT_S = 30.0
SECRETS = frozenset({"metricsToken", "alertWebhookUrl", "alertHeartbeatUrl"})


class Gateway(Protocol):
    """The gateway Prometheus scrapes (through metrics-auth): listening on 127.0.0.1:port."""

    @property
    def port(self) -> int: ...


def live_settings() -> Settings:
    return settings_of({"environment": "live", "alertReceivers": "webhook,heartbeat"}, SECRETS, stack="live")


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

    def summary(self) -> str:
        with self.lock:
            return f"--- receiver got {[(r.path, r.body.get('status')) for r in self.received]}"


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


@dataclass
class LiveStack:
    settings: Settings
    render: Path
    prometheus: str
    alertmanager: str
    backup: str
    jobs: frozenset[str]
    receiver: Receiver
    logs_of: tuple[Path, ...]
    # The `for` the rendered rule had, where a test asked for a shorter one.
    original_for: str | None = None
    # Alertmanager wants its web credential on every path (infra/monitoring/web_auth.py):
    # `alertmanager` above carries it in the URL; this is the same address without it.
    alertmanager_bare: str = ""
    alertmanager_password: str = ""

    def logs(self) -> str:
        return "\n".join([*(log_tail(p) for p in self.logs_of), self.receiver.summary()])

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        """An instant query, now or at the Unix time `at`."""
        params: dict[str, str | float] = {"query": expr, **({"time": at} if at is not None else {})}
        r = requests.get(f"{self.prometheus}/api/v1/query", params=params, timeout=10)
        body = r.json()
        assert r.status_code == 200 and body["status"] == "success", f"{expr}: {body}"
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def rule(self, name: str) -> dict[str, Any] | None:
        """The rule named `name` as Prometheus' rules API reports it (state, health, lastEvaluation)."""
        groups = requests.get(f"{self.prometheus}/api/v1/rules", timeout=10).json()["data"]["groups"]
        found = [r for g in groups for r in g["rules"] if r["name"] == name]
        return found[0] if found else None


def _shorten(rules_dir: Path, alert: str) -> str:
    for path in sorted(rules_dir.glob("*.yml")):
        try:
            return localize.shorten_for(path, alert)
        except KeyError:
            continue
    raise KeyError(f"no rule file in {rules_dir} has alert {alert}")


@contextlib.contextmanager
def live_stack(
    tmp: Path,
    gw: Gateway,
    token: str,
    shorten: str | None = None,
    test_intervals: bool = True,
    *,
    data_dir: Path | None = None,
) -> Iterator[LiveStack]:
    """The rendered monitoring of stack `live` scraping gw (token: its admin key); `shorten`:
    an alert whose `for` becomes localize.FOR_OVERRIDE; `test_intervals` False keeps the rendered
    scrape, evaluation and notification intervals (the bench's production-like latency);
    `data_dir`: the gateway's data folder the backup service backs up (default: a fresh one with
    the seven databases, WAL mode, empty tables)."""
    settings = live_settings()
    out = tmp / "render"
    render.write(settings, out)
    receiver = Receiver()
    prom_port, am_port, backup_port, auth_port = free_port(), free_port(), free_port(), free_port()
    prom_log, am_log, backup_log = tmp / "prometheus.log", tmp / "alertmanager.log", tmp / "backup.log"
    auth_log = tmp / "metrics-auth.log"
    addresses = {
        f"{metrics_auth.NAME}:{settings.metrics_auth_port}": f"127.0.0.1:{auth_port}",
        f"{endpoints.PROMETHEUS}:{endpoints.PROMETHEUS_PORT}": f"127.0.0.1:{prom_port}",
        f"{endpoints.ALERTMANAGER}:{endpoints.ALERTMANAGER_PORT}": f"127.0.0.1:{am_port}",
        f"{backup.NAME}:{settings.backup_metrics_port}": f"127.0.0.1:{backup_port}",
    }
    prom_config = localize.prometheus_dir(out, tmp / "prometheus", addresses, shorten=test_intervals)
    # The metrics-auth proxy as rendered, in front of the gateway; the key only in its environment.
    rendered_caddyfile = localize.rendered_files(out, metrics_auth.NAME, metrics_auth.CONFIG_DIR) / "Caddyfile"
    caddyfile = tmp / "metrics-auth.Caddyfile"
    caddyfile.write_text(
        localize.metrics_auth_caddyfile(
            rendered_caddyfile.read_text(), f"127.0.0.1:{auth_port}", f"127.0.0.1:{gw.port}"
        )
    )
    auth_cmd = localize.metrics_auth_command(out, caddyfile)
    auth_env = localize.metrics_auth_env(tmp / "metrics-auth", token)
    jobs = frozenset(j["job_name"] for j in yaml.safe_load(prom_config.read_text())["scrape_configs"])
    original_for = _shorten(prom_config.parent / "rules", shorten) if shorten else None
    prom_cmd = localize.prometheus_command(out, prom_config, tmp / "prometheus-data", prom_port, test_intervals)
    # Alertmanager's web password (generated at deploy); Prometheus reads it from its own file.
    am_password = secrets.token_hex(16)
    localize.prometheus_password_files(prom_config, am_password)
    am_web = localize.alertmanager_web_config(out, tmp / "alertmanager-web.yml", am_password)

    if data_dir is None:
        # The double keeps no databases: the seven of the gateway (WAL mode, empty tables) to copy.
        data_dir = tmp / "gateway-data"
        for conn in create_databases(data_dir):
            conn.close()
    backup_cmd, backup_env = localize.backup_command(out, data_dir, tmp / "backups", backup_port)

    with serving(receiver) as hook:
        hook_url = f"http://127.0.0.1:{hook.server_address[1]}"
        am_file = tmp / "alertmanager.yml"
        am_file.write_text(
            localize.alertmanager_config(
                (localize.rendered_files(out, endpoints.ALERTMANAGER, endpoints.ALERTMANAGER_CONFIG_DIR))
                .joinpath("alertmanager.yml")
                .read_text(),
                {"alertWebhookUrl": f"{hook_url}/alerts", "alertHeartbeatUrl": f"{hook_url}/heartbeat"},
                test_intervals,
            )
        )
        am_cmd = localize.alertmanager_command(out, am_file, tmp / "alertmanager-data", am_port, am_web)
        with (
            process(auth_cmd, auth_log, env=auth_env),
            process([binary("prometheus-alertmanager", "alertmanager"), *am_cmd], am_log),
            process(backup_cmd, backup_log, env=backup_env),
            process([binary("prometheus"), *prom_cmd], prom_log),
        ):
            stack = LiveStack(
                settings,
                out,
                f"http://127.0.0.1:{prom_port}",
                f"http://{web_auth.USER}:{am_password}@127.0.0.1:{am_port}",
                f"http://127.0.0.1:{backup_port}",
                jobs,
                receiver,
                (prom_log, am_log, backup_log, auth_log),
                original_for,
                alertmanager_bare=f"http://127.0.0.1:{am_port}",
                alertmanager_password=am_password,
            )
            for what, url in (
                ("Alertmanager ready", f"{stack.alertmanager}{endpoints.READY_PATH}"),
                ("Prometheus ready", f"{stack.prometheus}{endpoints.READY_PATH}"),
                ("backup service healthy", f"{stack.backup}{backup.HEALTH_PATH}"),
            ):
                wait_for(what, functools.partial(http_ok, url), START_TIMEOUT_S, stack.logs)

            def all_up() -> dict[str, str] | None:
                up = {r["metric"]["job"]: r["value"][1] for r in stack.query("up")}
                return up if up == dict.fromkeys(jobs, "1") else None

            # A job's first scrape comes up to one of its intervals after start: the gateway job's
            # own (30 s) when the rendered intervals are kept.
            config = yaml.safe_load(prom_config.read_text())
            longest_s = max(
                duration_seconds(job.get("scrape_interval", config["global"]["scrape_interval"]))
                for job in config["scrape_configs"]
            )
            wait_for(f"up == 1 for {sorted(jobs)}", all_up, START_TIMEOUT_S + longest_s, stack.logs)
            yield stack
