"""What reached the real gateway, read from its own request log.

At `logging.level: debug` the gateway writes one JSON line per request it answered
(`"msg":"Request completed"` with method, url and statusCode; docs/gateway.md, Logs). A test that
must prove what a proxy forwarded, or did not forward, reads those lines instead of a double's
request list. pino writes them from a worker thread, so a line can trail its answer: `settled()`
sends a marker request straight to the gateway and waits for its line, after which every earlier
request's line is in the file.
"""

from __future__ import annotations

import secrets
from typing import NamedTuple

import requests

from infra.logs.lines import records
from testbed.processes import wait_for
from tests.support.real_gateway import RealGateway

REQUEST_LINE = "Request completed"
SETTLE_TIMEOUT_S = 10.0


class Seen(NamedTuple):
    method: str
    url: str
    status: int


def requests_seen(gw: RealGateway) -> list[Seen]:
    """Every request the gateway logged so far, in order (empty unless it logs at debug)."""
    return [
        Seen(str(r["method"]), str(r["url"]), int(r["statusCode"]))
        for r in records(gw.log())
        if r.get("msg") == REQUEST_LINE
    ]


def settled(gw: RealGateway) -> list[Seen]:
    """`requests_seen` once every request answered before this call is logged (the marker left out)."""
    marker = f"/health?settle={secrets.token_hex(6)}"
    requests.get(f"{gw.url}{marker}", timeout=SETTLE_TIMEOUT_S).raise_for_status()
    wait_for(
        "the gateway's log line of a marker request (is it logging at debug?)",
        lambda: any(s.url == marker for s in requests_seen(gw)),
        SETTLE_TIMEOUT_S,
        lambda: gw.log()[-4000:],
    )
    return [s for s in requests_seen(gw) if not s.url.startswith("/health?settle=")]
