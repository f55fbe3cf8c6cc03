"""A stand-in for the SecureYeoman gateway 0.1.0: /health, /metrics, /ws/metrics and login.

It behaves like the real gateway where the infrastructure depends on it (see docs/gateway.md):
one port for HTTP and the WebSocket, /metrics in the gateway's exact text format and demanding
an admin credential (Bearer or X-API-Key) when a token is set, 403 for non-private clients,
a 1 MB body limit, JSON errors, pino-style JSON request logs on stdout, SIGHUP kills it.
Metric values are a test's to change: in process through `GatewayDouble.values`, or over HTTP
with `POST /__double/values` when run as a process.

In process:   with GatewayDouble(token="k") as gw: gw.values.update({...}); requests.get(gw.url)
As a process: python -m tests.support.gateway_double --port 18789 --token-file F
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from aiohttp import WSMsgType, web

from tests.support.exposition import MetricValues

VERSION = "0.1.0"
BODY_LIMIT = 1024 * 1024  # the gateway's Fastify bodyLimit
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
CONTROL_PATH = "/__double/values"
START_TIMEOUT = 10.0

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
    ) -> None:
        self.token = token
        self.host = host
        self.port = port
        self.ws_interval = ws_interval
        self.admin_password = admin_password
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

    def _credential(self, request: web.Request) -> str | None:
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return auth.removeprefix("Bearer ").strip()
        return request.headers.get("X-API-Key")

    def _auth_problem(self, request: web.Request) -> web.Response | None:
        """None when the request may see admin routes; otherwise the gateway's refusal."""
        if self.token is None:
            return None
        given = self._credential(request)
        if not given:
            return _error(401, "Missing authentication")
        if given != self.token:
            return _error(403, "Admin access required")
        return None

    async def _health(self, request: web.Request) -> web.Response:
        uptime = int(time.monotonic() - self._started)
        body = {"status": "ok", "version": VERSION, "uptime": uptime, "checks": {"database": True, "auditChain": True}}
        return web.json_response(body)

    async def _metrics(self, request: web.Request) -> web.Response:
        problem = self._auth_problem(request)
        if problem is not None:
            return problem
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
        token = self.token or "double-access-token"
        return web.json_response(
            {"accessToken": token, "refreshToken": "double-refresh-token", "expiresIn": 3600, "tokenType": "Bearer"}
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
        if self._credential(request) is None:
            return _error(401, "Missing authentication")
        if self.token is not None and self._credential(request) != self.token:
            return _error(401, "Invalid token")
        return _error(404, "Not found (the double serves no other API)")

    def _write_log(self, level: str, msg: str, **fields: object) -> None:
        if self._log is None:
            return
        line = {
            "level": level,
            "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "pid": 0,
            "hostname": "double",
            "name": "secureyeoman",
            **fields,
            "msg": msg,
        }
        self._log.write(json.dumps(line, separators=(",", ":")) + "\n")
        self._log.flush()

    # --- lifecycle ------------------------------------------------------------------------

    async def serve(self) -> None:
        """Start listening on the running loop; sets self.port to the bound port."""
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self._write_log("info", "Gateway started", component="Gateway", port=self.port)

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
    loop = asyncio.get_running_loop()
    # SIGTERM and SIGINT stop it cleanly; SIGHUP keeps its default action and kills it,
    # exactly as with the real gateway.
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    double._write_log("info", "Shutting down", component="Gateway")
    await double.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.gateway_double", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18789)
    parser.add_argument("--token-file", type=Path, help="file holding the admin key /metrics demands")
    parser.add_argument("--ws-interval", type=float, default=1.0)
    args = parser.parse_args(argv)
    token = args.token_file.read_text(encoding="utf-8").strip() if args.token_file else None
    double = GatewayDouble(token, host=args.host, port=args.port, ws_interval=args.ws_interval, log=sys.stdout)
    asyncio.run(_main_async(double))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
