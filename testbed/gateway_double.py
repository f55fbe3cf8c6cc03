"""A stand-in for the SecureYeoman gateway 0.1.0: /health, /metrics, /ws/metrics, login and the API's refusals.

It behaves like the real gateway where the infrastructure depends on it (docs/gateway.md; the
parity test tests/double/test_parity.py names each fact it models and checks it):

* 403 for clients outside 127.0.0.1, ::1, 10/8, 172.16/12 and 192.168/16 (127.0.0.77 too), before
  anything else; then credentials, checked before routing: every path but /health and login
  answers 401 without one (unknown paths, comms routes while comms is off, a plain GET
  /ws/metrics), and only then 404 (with a credential) or 403 (a non-admin on an admin route);
* credentials: `X-API-Key` carries an API key (the admin key, or one made with
  `POST /api/v1/auth/api-keys`); `Authorization: Bearer` carries only a JWT (HS256, with an
  expiry, the gateway's claims), so an API key sent as Bearer is refused with 401; the error
  bodies are the gateway's texts;
* one port for HTTP and the WebSocket; /metrics in the gateway's exact text format, admin only
  when an admin key is set; every /metrics call blocks the process about 15 us per audit entry
  (`friday_audit_entries_total`, a value a test sets like any other); /health's uptime in ms;
* /ws/metrics sends nothing until a client subscribes (`{"type":"subscribe","payload":
  {"channels":["metrics"]}}`, answered with an ack), then an update every `ws_interval` (5 s,
  the gateway's, unless a test asks for less) from one timer for all clients;
* a 1 MB body limit;
* stdout: pino-style JSON lines filtered by `logging.level` of its config file (request lines at
  `debug`), plus the text the real one prints: a blank line and a 10-line banner at start,
  a blank line, `Received SIGTERM, shutting down...` and `Shutdown complete.` at stop, followed
  by the stop's JSON lines; an unknown level in `logging.level`, `core.logLevel` or
  SECUREYEOMAN_LOG_LEVEL (which lands in core.logLevel) makes the start fail with exit code 1;
  the environment (SECUREYEOMAN_ENV over `core.environment`) must be development, staging or
  production, or the start fails with exit code 1; it is reported in the JSON start lines;
* as a process, the admin password and the JWT secret come from SECUREYEOMAN_ADMIN_PASSWORD and
  SECUREYEOMAN_TOKEN_SECRET when set, as the gateway's do;
* SIGTERM and SIGINT stop it cleanly, SIGHUP kills it.

Metric values are a test's to change: in process through `GatewayDouble.values`, or over HTTP
with `POST /__double/values` when run as a process.

In process:   with GatewayDouble(token="k") as gw: gw.values.update({...}); requests.get(gw.url)
As a process: python -m testbed.gateway_double --port 18789 --token-file F [--config gateway.yaml]
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
import secrets
import signal
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import yaml
from aiohttp import WSMsgType, web

from testbed.exposition import MetricValues

VERSION = "0.1.0"
BODY_LIMIT = 1024 * 1024  # the gateway's Fastify bodyLimit
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
CONTROL_PATH = "/__double/values"
START_TIMEOUT = 10.0
# The levels the gateway accepts in logging.level (and core.logLevel); pino's numbers.
LOG_LEVELS: Mapping[str, int] = {"trace": 10, "debug": 20, "info": 30, "warn": 40, "error": 50}
DEFAULT_LOG_LEVEL = "info"
DEFAULT_ENVIRONMENT = "development"
# The values core.environment (and SECUREYEOMAN_ENV, which lands there) accepts: a zod enum.
ENVIRONMENTS = ("development", "staging", "production")
# Every /metrics call re-verifies the audit chain: measured about 15 us per entry, linear.
AUDIT_VERIFY_S_PER_ENTRY = 15e-6
AUDIT_ENTRIES = "friday_audit_entries_total"
# A JWT lives tokenExpirySeconds (default 3600 s, at most 86400 s).
TOKEN_EXPIRY_S = 3600
COMMS_PREFIX = "/api/v1/comms"
STOP_LINES = ("Received {signal}, shutting down...", "Shutdown complete.")
# The WebSocket broadcast: one timer for every client, every 5 s, to clients subscribed to "metrics".
WS_INTERVAL_S = 5.0
WS_CHANNEL = "metrics"
# Routes that need no credential; everything else is checked before routing.
PUBLIC_PATHS = frozenset({"/health", "/api/v1/auth/login"})
ROLES = ("admin", "operator", "auditor", "viewer")
API_KEY_PREFIX = "sck_"
# The gateway's error bodies (its auth hooks' texts and Fastify's own 404 and 413).
NO_CREDENTIAL = "Missing authentication credentials"
INVALID_API_KEY = "Invalid API key"
INVALID_TOKEN = "Invalid or expired token"
FORBIDDEN = "Forbidden"
NOT_LOCAL = {"error": "Access denied", "message": "Dashboard is only accessible from local network"}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_allowed_client(address: str | None) -> bool:
    """The gateway's own test, as written (its isPrivateIP): of loopback only 127.0.0.1 and ::1,
    and the private IPv4 ranges by prefix; anything else (127.0.0.77, fc00::/7, link-local, an
    IPv4-mapped IPv6 address) is refused."""
    if not address:
        return False
    if address in ("127.0.0.1", "::1", "localhost"):
        return True
    if address.startswith(("10.", "192.168.")):
        return True
    if address.startswith("172."):
        second = address.split(".")[1]
        return second.isdigit() and 16 <= int(second) <= 31
    return False


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _not_found(method: str, path: str) -> web.Response:
    """Fastify's answer for a path without a route."""
    body = {"message": f"Route {method}:{path} not found", "error": "Not Found", "statusCode": 404}
    return web.json_response(body, status=404)


def banner(url: str) -> list[str]:
    """What the gateway prints at start: a blank line and ten lines of text (two of them blank)."""
    return [
        "",
        "  ╔═══════════════════════════════════════════╗",
        f"  ║          SecureYeoman v{VERSION}              ║",
        "  ║   Secure Autonomous Agent Framework       ║",
        "  ╚═══════════════════════════════════════════╝",
        "",
        f"  Gateway:    {url}",
        f"  Dashboard:  {url} (serve dashboard build)",
        f"  Health:     {url}/health",
        f"  API:        {url}/api/v1/",
        "",
    ]


def access_claims(role: str, expires_in: float, now: float) -> dict[str, Any]:
    """The claims of the gateway's access token (its signToken): verified the same way by both."""
    return {
        "sub": "admin" if role == "admin" else f"{role}-user",
        "role": role,
        "permissions": [],
        "jti": str(uuid.uuid4()),
        "type": "access",
        "iat": int(now),
        "exp": int(now + expires_in),
    }


def _now_ms() -> int:
    return int(time.time() * 1000)


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
        core.logLevel, or SECUREYEOMAN_LOG_LEVEL, which lands in core.logLevel) refuses the start,
        and so does an environment (SECUREYEOMAN_ENV over core.environment) outside ENVIRONMENTS."""
        config = config or {}
        logging = config.get("logging") or {}
        core = config.get("core") or {}
        comms = config.get("comms") or {}
        # An empty variable counts as unset there (`if (process.env.X)`).
        environment = env.get("SECUREYEOMAN_ENV") or core.get("environment", DEFAULT_ENVIRONMENT)
        checks: tuple[tuple[str, object, tuple[str, ...]], ...] = (
            ("logging.level", logging.get("level"), tuple(LOG_LEVELS)),
            ("core.logLevel", env.get("SECUREYEOMAN_LOG_LEVEL") or core.get("logLevel"), tuple(LOG_LEVELS)),
            ("core.environment", environment, ENVIRONMENTS),
        )
        for where, value, allowed in checks:
            if value is not None and value not in allowed:
                raise StartupError(f"Invalid configuration:\n  {where}: must be one of {', '.join(allowed)}")
        return cls(
            log_level=str(logging.get("level", DEFAULT_LOG_LEVEL)),
            environment=str(environment),
            comms_enabled=bool(comms.get("enabled", False)),
        )


class GatewayDouble:
    """The double on 127.0.0.1, served from a background thread with its own event loop."""

    DEFAULT_TOKEN_SECRET = "double-token-secret-0123456789abcdef"

    def __init__(
        self,
        token: str | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ws_interval: float = WS_INTERVAL_S,
        admin_password: str | None = None,
        log: TextIO | None = None,
        user_keys: tuple[str, ...] = (),
        token_secret: str = DEFAULT_TOKEN_SECRET,
        config: GatewayConfig | None = None,
    ) -> None:
        self.token = token  # the admin API key; None: a later gateway whose /metrics is public
        self.user_keys = user_keys  # valid API keys without the admin role
        self.api_keys: dict[str, str] = {}  # key -> role, made with POST /api/v1/auth/api-keys
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
        self._subscriptions: dict[web.WebSocketResponse, set[str]] = {}
        self._ticker: asyncio.Task[None] | None = None
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
        return sign_jwt(access_claims(role, expires_in, time.time()), self.token_secret)

    # --- the HTTP application -------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=BODY_LIMIT, middlewares=[self._middleware])
        app.router.add_get("/health", self._health)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/ws/metrics", self._ws_metrics)
        app.router.add_post("/api/v1/auth/login", self._login)
        app.router.add_post("/api/v1/auth/api-keys", self._create_api_key)
        app.router.add_post(CONTROL_PATH, self._control)
        app.router.add_route("*", "/api/v1/{tail:.*}", self._api)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.monotonic()
        if not is_allowed_client(request.remote):
            response: web.StreamResponse = web.json_response(NOT_LOCAL, status=403)
        else:
            refusal = self._check_credential(request)
            if refusal is not None:
                response = refusal
            else:
                try:
                    response = await handler(request)
                except web.HTTPRequestEntityTooLarge:
                    response = web.json_response(
                        {
                            "statusCode": 413,
                            "code": "FST_ERR_CTP_BODY_TOO_LARGE",
                            "error": "Payload Too Large",
                            "message": "Request body is too large",
                        },
                        status=413,
                    )
                except web.HTTPNotFound:
                    response = _not_found(request.method, request.path)
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
            responseTime=(time.monotonic() - started) * 1000,
        )
        return response

    def _check_credential(self, request: web.Request) -> web.Response | None:
        """The gateway's auth and RBAC hooks, which run before routing: None lets the request on
        to its route (or to 404); otherwise the refusal (401, or 403 for a non-admin)."""
        path = request.path
        if path in PUBLIC_PATHS or path == CONTROL_PATH:
            return None
        if self.token is None and path in ("/metrics", "/ws/metrics"):
            return None  # a later gateway: /metrics is public
        role, refusal = self._role(request)
        if refusal is not None:
            return refusal
        # The double serves none of the API's routes beyond api-keys; those answer 404 to any
        # valid credential. Everything else (/metrics, /ws/metrics, api-keys, unknown paths) is
        # admin-only, as the gateway's default-deny for routes without a permission.
        api = path.startswith("/api/v1/") and path != "/api/v1/auth/api-keys"
        if not api and role != "admin":
            return _error(403, FORBIDDEN)
        return None

    def _role(self, request: web.Request) -> tuple[str | None, web.Response | None]:
        """(role, None) for a valid credential, (None, refusal) otherwise."""
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            # Bearer is checked as a JWT only: an API key sent this way is refused.
            claims = verify_jwt(auth.removeprefix("Bearer "), self.token_secret, time.time())
            if claims is None or claims.get("type") != "access":
                return None, _error(401, INVALID_TOKEN)
            return str(claims.get("role", "")), None
        key = request.headers.get("X-API-Key")
        if not key:
            return None, _error(401, NO_CREDENTIAL)
        role = self._key_role(key)
        return (role, None) if role is not None else (None, _error(401, INVALID_API_KEY))

    def _key_role(self, key: str) -> str | None:
        if self.token is not None and hmac.compare_digest(key, self.token):
            return "admin"
        if key in self.user_keys:
            return "viewer"
        return self.api_keys.get(key)

    async def _health(self, request: web.Request) -> web.Response:
        uptime = int((time.monotonic() - self._started) * 1000)  # milliseconds, as the gateway's
        # The real checks are constants: /health proves only that HTTP answers.
        body = {"status": "ok", "version": VERSION, "uptime": uptime, "checks": {"database": True, "auditChain": True}}
        return web.json_response(body)

    async def _metrics(self, request: web.Request) -> web.Response:
        # The audit chain verification blocks the whole process, as the gateway's does.
        time.sleep(max(0.0, self.values.value(AUDIT_ENTRIES)) * AUDIT_VERIFY_S_PER_ENTRY)
        response = web.Response(body=self.values.render().encode(), headers={"Content-Type": CONTENT_TYPE})
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            response.enable_compression(web.ContentCoding.gzip)
        return response

    def metrics_snapshot(self) -> dict[str, Any]:
        """The WebSocket's payload, shaped like the gateway's MetricsSnapshot (the parts the double has)."""
        v = self.values.snapshot()
        return {
            "timestamp": int(time.time() * 1000),
            "tasks": {
                "total": v["friday_tasks_total"],
                "byStatus": v["friday_tasks_by_status"],
                "successRate": v["friday_tasks_success_rate"],
                "queueDepth": v["friday_tasks_queue_depth"],
                "inProgress": v["friday_tasks_in_progress"],
            },
            "resources": {"cpuPercent": v["friday_cpu_percent"], "memoryUsedMb": v["friday_memory_used_mb"]},
            "security": {
                "authFailuresTotal": v["friday_auth_failures_total"],
                "auditEntriesTotal": v["friday_audit_entries_total"],
                "auditChainValid": v["friday_audit_chain_valid"] == 1,
            },
        }

    async def _ws_metrics(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=None)
        # The credential was checked before routing; a plain GET (no upgrade headers) then finds
        # no route: 404 with an empty body, as the gateway answers.
        if not ws.can_prepare(request).ok:
            return web.Response(status=404)
        await ws.prepare(request)
        channels: set[str] = set()
        self._subscriptions[ws] = channels
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(message.data)
                except json.JSONDecodeError:
                    continue  # the gateway logs the error and carries on
                wanted = (data.get("payload") or {}).get("channels") if isinstance(data, dict) else None
                if not isinstance(wanted, list):
                    continue
                if data.get("type") == "subscribe":
                    channels.update(str(c) for c in wanted)
                    ack = {"subscribed": sorted(channels)}
                    await ws.send_json(
                        {"type": "ack", "channel": "system", "payload": ack, "timestamp": _now_ms(), "sequence": 0}
                    )
                elif data.get("type") == "unsubscribe":
                    channels.difference_update(str(c) for c in wanted)
        finally:
            self._subscriptions.pop(ws, None)
        return ws

    async def _broadcast_forever(self) -> None:
        """One timer for all clients, as the gateway's setInterval: every ws_interval, an update to
        each client subscribed to "metrics" (nothing to the others)."""
        while True:
            await asyncio.sleep(self.ws_interval)
            message = {
                "type": "update",
                "channel": WS_CHANNEL,
                "payload": self.metrics_snapshot(),
                "timestamp": _now_ms(),
                "sequence": _now_ms(),
            }
            for ws, channels in list(self._subscriptions.items()):
                if WS_CHANNEL in channels and not ws.closed:
                    with contextlib.suppress(ConnectionResetError, RuntimeError):
                        await ws.send_json(message)

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
                "refreshToken": sign_jwt(
                    {**access_claims("admin", 86400, time.time()), "type": "refresh"}, self.token_secret
                ),
                "expiresIn": TOKEN_EXPIRY_S,
                "tokenType": "Bearer",
            }
        )

    async def _create_api_key(self, request: web.Request) -> web.Response:
        """POST /api/v1/auth/api-keys {"name", "role"} (admin): 201 with the new key."""
        try:
            body = await request.json()
        except json.JSONDecodeError:
            body = {}
        name = body.get("name") if isinstance(body, dict) else None
        role = body.get("role") if isinstance(body, dict) else None
        if not isinstance(name, str) or not name:
            return _error(400, "Name is required")
        if not isinstance(role, str) or not role:
            return _error(400, "Role is required")
        if role not in ROLES:
            return _error(400, f"Unknown role: {role}")
        key = API_KEY_PREFIX + secrets.token_hex(32)
        self.api_keys[key] = role
        created = {
            "id": str(uuid.uuid4()),
            "name": name,
            "key": key,
            "keyPrefix": key[:12],
            "role": role,
            "createdAt": _now_ms(),
            "expiresAt": None,
        }
        return web.json_response(created, status=201)

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
        # Reached only with a valid credential. The comms routes exist only when comms is on.
        comms = request.path == COMMS_PREFIX or request.path.startswith(COMMS_PREFIX + "/")
        if comms and not self.config.comms_enabled:
            return _not_found(request.method, request.path)
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
        """What the gateway prints when a signal stops it: a blank line and two plain lines, then
        the JSON lines of the shutdown (its logger writes them from another thread, after)."""
        self._write_raw(["", STOP_LINES[0].format(signal=signal_name), STOP_LINES[1]])
        self._write_log("info", "SecureYeoman shutting down")
        self._write_log("info", "Gateway server stopped", component="Gateway")
        self._write_log("info", "SecureYeoman shutdown complete")

    # --- lifecycle ------------------------------------------------------------------------

    async def serve(self) -> None:
        """Start listening on the running loop; sets self.port to the bound port."""
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self._ticker = asyncio.get_running_loop().create_task(self._broadcast_forever())
        # The log of a fresh start begins with the banner (a blank line first), then the JSON lines
        # (the gateway prints the banner last, but its JSON lines reach stdout later, from a thread).
        self._write_raw(banner(self.url))
        environment = self.config.environment
        self._write_log("info", "SecureYeoman initializing", environment=environment, version="1.0")
        self._write_log(
            "info",
            "Gateway server started",
            component="Gateway",
            host=self.host,
            port=self.port,
            url=self.url,
            tls=False,
            mtls=False,
        )
        self._write_log("info", "SecureYeoman initialized successfully", environment=environment, gatewayEnabled=True)

    async def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
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
    parser = argparse.ArgumentParser(prog="python -m testbed.gateway_double", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18789)
    parser.add_argument("--token-file", type=Path, help="file holding the admin key /metrics demands")
    parser.add_argument("--config", type=Path, help="the gateway's YAML config (logging.level, comms.enabled)")
    parser.add_argument("--ws-interval", type=float, default=WS_INTERVAL_S)
    args = parser.parse_args(argv)
    token = args.token_file.read_text(encoding="utf-8").strip() if args.token_file else None
    try:
        config = GatewayConfig.load(read_config(args.config), os.environ)
    except StartupError as exc:
        print(f"Failed to start SecureYeoman: {exc}", file=sys.stderr, flush=True)
        return 1
    secret = os.environ.get("SECUREYEOMAN_TOKEN_SECRET") or GatewayDouble.DEFAULT_TOKEN_SECRET
    double = GatewayDouble(
        token,
        host=args.host,
        port=args.port,
        ws_interval=args.ws_interval,
        log=sys.stdout,
        config=config,
        admin_password=os.environ.get("SECUREYEOMAN_ADMIN_PASSWORD"),
        token_secret=secret,
    )
    asyncio.run(_main_async(double))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
