"""A stand-in for the SecureYeoman gateway 0.1.0: /health, /metrics, /ws/metrics, login and the API's refusals.

It behaves like the real gateway where the infrastructure depends on it (docs/gateway.md; the
parity test tests/double/test_parity.py names each fact it models and checks it):

* credentials: `X-API-Key` carries an API key (the admin key opens admin routes, another valid
  key is refused with 403, an unknown one with 401); `Authorization: Bearer` carries only a JWT
  (HS256, with an expiry), so an API key sent as Bearer is refused with 401;
* one port for HTTP and the WebSocket; /metrics in the gateway's exact text format, admin only
  when an admin key is set; every /metrics call blocks the process about 15 us per audit entry
  (`friday_audit_entries_total`, a value a test sets like any other);
* 403 for non-private clients, a 1 MB body limit, JSON errors, comms routes 404 while comms is
  off, the WebSocket route 404 without upgrade headers;
* stdout: pino-style JSON lines filtered by `logging.level` of its config file (request lines at
  `debug`), plus the text the real one prints: a blank line and a 10-line banner at start,
  `Received SIGTERM, shutting down...` and `Shutdown complete.` at stop; an unknown level in
  `logging.level`, `core.logLevel` or SECUREYEOMAN_LOG_LEVEL (which lands in core.logLevel) makes
  the start fail with exit code 1; the environment it reports comes from SECUREYEOMAN_ENV;
* SIGTERM and SIGINT stop it cleanly, SIGHUP kills it.

Metric values are a test's to change: in process through `GatewayDouble.values`, or over HTTP
with `POST /__double/values` when run as a process.

In process:   with GatewayDouble(token="k") as gw: gw.values.update({...}); requests.get(gw.url)
As a process: python -m tests.support.gateway_double --port 18789 --token-file F [--config gateway.yaml]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import hmac
import ipaddress
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import yaml
from aiohttp import WSMsgType, web

from tests.support.exposition import MetricValues

VERSION = "0.1.0"
BODY_LIMIT = 1024 * 1024  # the gateway's Fastify bodyLimit
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
CONTROL_PATH = "/__double/values"
START_TIMEOUT = 10.0
# The levels the gateway accepts in logging.level (and core.logLevel); pino's numbers.
LOG_LEVELS: Mapping[str, int] = {"trace": 10, "debug": 20, "info": 30, "warn": 40, "error": 50}
DEFAULT_LOG_LEVEL = "info"
DEFAULT_ENVIRONMENT = "development"
# Every /metrics call re-verifies the audit chain: measured about 15 us per entry, linear.
AUDIT_VERIFY_S_PER_ENTRY = 15e-6
AUDIT_ENTRIES = "friday_audit_entries_total"
# A JWT lives tokenExpirySeconds (default 3600 s, at most 86400 s).
TOKEN_EXPIRY_S = 3600
COMMS_PREFIX = "/api/v1/comms"
STOP_LINES = ("Received {signal}, shutting down...", "Shutdown complete.")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_allowed_client(address: str | None) -> bool:
    """The gateway answers only private and loopback clients."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip.is_private or ip.is_loopback


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def banner(environment: str, url: str) -> list[str]:
    """What the gateway prints before its JSON lines: a blank line and ten lines of text."""
    ws = url.replace("http://", "ws://", 1)
    return [
        "",
        "  +------------------------------------------+",
        "  |   F.R.I.D.A.Y.  -  SecureYeoman gateway  |",
        "  +------------------------------------------+",
        f"  Version:      {VERSION}",
        f"  Environment:  {environment}",
        f"  API:          {url}/api/v1",
        f"  Health:       {url}/health",
        f"  Metrics:      {url}/metrics",
        f"  WebSocket:    {ws}/ws/metrics",
        "  Press Ctrl+C to stop",
    ]


class StartupError(Exception):
    """The configuration makes the gateway refuse to start (exit code 1)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# A JWT with HS256 is a few lines of the standard library; the double needs no JWT package for it.
def sign_jwt(claims: Mapping[str, Any], secret: str) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(dict(claims), separators=(",", ":")).encode())
    mac = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(mac)}"


def verify_jwt(token: str, secret: str, now: float) -> dict[str, Any] | None:
    """The claims of a validly signed, unexpired JWT; None for anything else (an API key, say)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        mac = _unb64(parts[2])
        claims = json.loads(_unb64(parts[1]))
    except (ValueError, UnicodeDecodeError):
        return None
    expected = hmac.new(secret.encode(), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(mac, expected) or not isinstance(claims, dict):
        return None
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or exp <= now:
        return None
    return claims


@dataclass(frozen=True)
class GatewayConfig:
    """What the double reads from a gateway config file and the environment."""

    log_level: str = DEFAULT_LOG_LEVEL
    environment: str = DEFAULT_ENVIRONMENT
    comms_enabled: bool = False

    @classmethod
    def load(cls, config: Mapping[str, Any] | None, env: Mapping[str, str]) -> GatewayConfig:
        """As the gateway does: the level from logging.level only; any unknown level (there, in
        core.logLevel, or SECUREYEOMAN_LOG_LEVEL, which lands in core.logLevel) refuses the start."""
        config = config or {}
        logging = config.get("logging") or {}
        core = config.get("core") or {}
        comms = config.get("comms") or {}
        for where, value in (
            ("logging.level", logging.get("level")),
            ("core.logLevel", env.get("SECUREYEOMAN_LOG_LEVEL", core.get("logLevel"))),
        ):
            if value is not None and value not in LOG_LEVELS:
                raise StartupError(f"Invalid configuration: {where} must be one of {', '.join(LOG_LEVELS)}")
        return cls(
            log_level=str(logging.get("level", DEFAULT_LOG_LEVEL)),
            environment=env.get("SECUREYEOMAN_ENV", DEFAULT_ENVIRONMENT),
            comms_enabled=bool(comms.get("enabled", False)),
        )


class GatewayDouble:
    """The double on 127.0.0.1, served from a background thread with its own event loop."""

    def __init__(
        self,
        token: str | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ws_interval: float = 1.0,
        admin_password: str | None = None,
        log: TextIO | None = None,
        user_keys: tuple[str, ...] = (),
        token_secret: str = "double-token-secret-0123456789abcdef",
        config: GatewayConfig | None = None,
    ) -> None:
        self.token = token  # the admin API key; None: a later gateway whose /metrics is public
        self.user_keys = user_keys  # valid API keys without the admin role
        self.token_secret = token_secret
        self.host = host
        self.port = port
        self.ws_interval = ws_interval
        self.admin_password = admin_password
        self.config = config or GatewayConfig()
        if self.config.log_level not in LOG_LEVELS:
            raise StartupError(f"Invalid configuration: logging.level {self.config.log_level!r}")
        self.values = MetricValues()
        self.requests: list[tuple[str, str, int]] = []
        self._log = log
        self._started = time.monotonic()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def jwt(self, role: str = "admin", expires_in: float = TOKEN_EXPIRY_S) -> str:
        """An access token as login issues it (a negative expires_in gives an expired one)."""
        now = time.time()
        return sign_jwt({"sub": role, "role": role, "iat": int(now), "exp": int(now + expires_in)}, self.token_secret)

    # --- the HTTP application -------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=BODY_LIMIT, middlewares=[self._middleware])
        app.router.add_get("/health", self._health)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/ws/metrics", self._ws_metrics)
        app.router.add_post("/api/v1/auth/login", self._login)
        app.router.add_post(CONTROL_PATH, self._control)
        app.router.add_route("*", "/api/v1/{tail:.*}", self._api)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.monotonic()
        if not is_allowed_client(request.remote):
            response: web.StreamResponse = _error(403, "Forbidden: local network only")
        else:
            try:
                response = await handler(request)
            except web.HTTPRequestEntityTooLarge:
                response = _error(413, "Request body is too large")
            except web.HTTPException as exc:
                response = _error(exc.status, exc.reason)
        self.requests.append((request.method, request.path, response.status))
        self._write_log(
            "debug",
            "Request completed",
            component="Gateway",
            method=request.method,
            url=request.path_qs,
            statusCode=response.status,
            responseTime=round((time.monotonic() - started) * 1000, 1),
        )
        return response

    def _role(self, request: web.Request) -> tuple[str | None, web.Response | None]:
        """(role, None) for a valid credential, (None, refusal) otherwise."""
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            # Bearer is checked as a JWT only: an API key sent this way is refused.
            claims = verify_jwt(auth.removeprefix("Bearer ").strip(), self.token_secret, time.time())
            if claims is None:
                return None, _error(401, "Invalid or expired token")
            return str(claims.get("role", "")), None
        key = request.headers.get("X-API-Key")
        if key is None:
            return None, _error(401, "Missing authentication")
        if self.token is not None and hmac.compare_digest(key, self.token):
            return "admin", None
        if key in self.user_keys:
            return "viewer", None
        return None, _error(401, "Invalid API key")

    def _auth_problem(self, request: web.Request) -> web.Response | None:
        """None when the request may see admin routes; otherwise the gateway's refusal."""
        if self.token is None:
            return None
        role, refusal = self._role(request)
        if refusal is not None:
            return refusal
        if role != "admin":
            return _error(403, "Admin access required")
        return None

    async def _health(self, request: web.Request) -> web.Response:
        uptime = int(time.monotonic() - self._started)
        # The real checks are constants: /health proves only that HTTP answers.
        body = {"status": "ok", "version": VERSION, "uptime": uptime, "checks": {"database": True, "auditChain": True}}
        return web.json_response(body)

    async def _metrics(self, request: web.Request) -> web.Response:
        problem = self._auth_problem(request)
        if problem is not None:
            return problem
        # The audit chain verification blocks the whole process, as the gateway's does.
        time.sleep(max(0.0, self.values.value(AUDIT_ENTRIES)) * AUDIT_VERIFY_S_PER_ENTRY)
        response = web.Response(body=self.values.render().encode(), headers={"Content-Type": CONTENT_TYPE})
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            response.enable_compression(web.ContentCoding.gzip)
        return response

    async def _ws_metrics(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=None)
        # Like the gateway: a plain request (no upgrade headers) finds no route; an upgrade
        # request is then judged on its credential (401 without one).
        if not ws.can_prepare(request).ok:
            return _error(404, "Route GET:/ws/metrics not found")
        problem = self._auth_problem(request)
        if problem is not None:
            return problem
        await ws.prepare(request)

        async def broadcast() -> None:
            while not ws.closed:
                await ws.send_json({"type": "metrics", "data": self.values.snapshot()})
                await asyncio.sleep(self.ws_interval)

        sender = asyncio.create_task(broadcast())
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    await ws.send_json({"echo": message.data})
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionResetError):
                await sender
        return ws

    async def _login(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return _error(400, "Body must be JSON")
        if not isinstance(body, dict) or not isinstance(body.get("password"), str):
            return _error(400, "password is required")
        if self.admin_password is None or body["password"] != self.admin_password:
            return _error(401, "Invalid credentials")
        return web.json_response(
            {
                "accessToken": self.jwt(),
                "refreshToken": "double-refresh-token",
                "expiresIn": TOKEN_EXPIRY_S,
                "tokenType": "Bearer",
            }
        )

    async def _control(self, request: web.Request) -> web.Response:
        address = request.remote or ""
        if not ipaddress.ip_address(address).is_loopback:
            return _error(403, "control endpoint is loopback only")
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("body must be a JSON object of metric name to value")
            self.values.update(body)
        except (ValueError, KeyError) as exc:
            return _error(400, str(exc))
        return web.Response(status=204)

    async def _api(self, request: web.Request) -> web.Response:
        # Routes that are not registered answer 404 before any auth: comms exists only when enabled.
        comms = request.path == COMMS_PREFIX or request.path.startswith(COMMS_PREFIX + "/")
        if comms and not self.config.comms_enabled:
            return _error(404, f"Route {request.method}:{request.path} not found")
        _, refusal = self._role(request)
        if refusal is not None:
            return refusal
        return _error(404, "Not found (the double serves no other API)")

    # --- stdout ---------------------------------------------------------------------------

    def _write_raw(self, lines: list[str]) -> None:
        if self._log is None:
            return
        self._log.write("".join(f"{line}\n" for line in lines))
        self._log.flush()

    def _write_log(self, level: str, msg: str, **fields: object) -> None:
        if self._log is None or LOG_LEVELS[level] < LOG_LEVELS[self.config.log_level]:
            return
        line = {
            "level": level,
            "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "pid": os.getpid(),
            "hostname": "double",
            "name": "secureyeoman",
            **fields,
            "msg": msg,
        }
        self._write_raw([json.dumps(line, separators=(",", ":"))])

    def write_stop_lines(self, signal_name: str) -> None:
        """The two plain lines the gateway prints when a signal stops it."""
        self._write_raw([STOP_LINES[0].format(signal=signal_name), STOP_LINES[1]])

    # --- lifecycle ------------------------------------------------------------------------

    async def serve(self) -> None:
        """Start listening on the running loop; sets self.port to the bound port."""
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        # The log of a fresh start begins with the banner (a blank line first), then the JSON lines.
        self._write_raw(banner(self.config.environment, self.url))
        self._write_log(
            "info", "Gateway started", component="Gateway", port=self.port, environment=self.config.environment
        )

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def start(self) -> GatewayDouble:
        if self._thread is not None:
            raise RuntimeError("already started")
        self._thread = threading.Thread(target=self._run_thread, name="gateway-double", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT):
            raise TimeoutError(f"gateway double did not start within {START_TIMEOUT}s")
        if self._failure is not None:
            raise RuntimeError("gateway double failed to start") from self._failure
        return self

    def _run_thread(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self.serve())
        except BaseException as exc:  # reported to start()
            self._failure = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self.close())
            loop.close()

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(START_TIMEOUT)
        if self._thread.is_alive():
            raise TimeoutError("gateway double did not stop")
        self._thread = None
        self._loop = None

    def __enter__(self) -> GatewayDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def _main_async(double: GatewayDouble) -> None:
    await double.serve()
    print(f"listening on {double.url}", file=sys.stderr, flush=True)
    stop = asyncio.Event()
    received: list[str] = []
    loop = asyncio.get_running_loop()
    # SIGTERM and SIGINT stop it cleanly; SIGHUP keeps its default action and kills it,
    # exactly as with the real gateway.

    def stopped_by(sig: signal.Signals) -> None:
        received.append(sig.name)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopped_by, sig)
    await stop.wait()
    double.write_stop_lines(received[0])
    await double.close()


def read_config(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return doc if isinstance(doc, dict) else {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.gateway_double", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18789)
    parser.add_argument("--token-file", type=Path, help="file holding the admin key /metrics demands")
    parser.add_argument("--config", type=Path, help="the gateway's YAML config (logging.level, comms.enabled)")
    parser.add_argument("--ws-interval", type=float, default=1.0)
    args = parser.parse_args(argv)
    token = args.token_file.read_text(encoding="utf-8").strip() if args.token_file else None
    try:
        config = GatewayConfig.load(read_config(args.config), os.environ)
    except StartupError as exc:
        print(exc, file=sys.stderr, flush=True)
        return 1
    double = GatewayDouble(
        token, host=args.host, port=args.port, ws_interval=args.ws_interval, log=sys.stdout, config=config
    )
    asyncio.run(_main_async(double))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
