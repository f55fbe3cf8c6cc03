"""HTTP requests made ON the tested host (the gateway publishes on loopback), with python3 there.

The admin key for /metrics is read on the host, from a file or an environment variable there:
it never appears on a command line, in testinfra's logs or in the test report.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import Any

# Runs on the host with its python3 (standard library only). Prints one JSON object.
_SCRIPT = r"""
import json, os, sys, urllib.error, urllib.request
url, token_file, token_env = sys.argv[1], sys.argv[2], sys.argv[3]
headers = {}
token = None
if token_file:
    with open(token_file, encoding="utf-8") as f:
        token = f.read().strip()
elif token_env:
    token = os.environ.get(token_env)
    if not token:
        print(json.dumps({"error": "environment variable " + token_env + " is not set on the host"}))
        sys.exit(0)
if token:
    headers["X-API-Key"] = token  # never as Bearer: the gateway checks Bearer as a JWT only
try:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
        status, ctype, body = r.status, r.headers.get("Content-Type", ""), r.read()
except urllib.error.HTTPError as e:
    status, ctype, body = e.code, e.headers.get("Content-Type", ""), e.read()
except OSError as e:
    print(json.dumps({"error": str(e)}))
    sys.exit(0)
print(json.dumps({"status": status, "content_type": ctype, "body": body.decode("utf-8", "replace")}))
"""


@dataclass(frozen=True)
class Response:
    status: int
    content_type: str
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


def get(host: Any, url: str, *, token_file: str | None = None, token_env: str | None = None) -> Response:
    """GET url from the host; AssertionError naming the URL when it cannot be reached."""
    cmd = " ".join(shlex.quote(a) for a in ("python3", "-c", _SCRIPT, url, token_file or "", token_env or ""))
    result = host.run(cmd)
    assert result.rc == 0, f"python3 on the host failed for {url}: {result.stderr.strip()}"
    doc = json.loads(result.stdout)
    assert "error" not in doc, f"GET {url} from the host: {doc.get('error')}"
    return Response(int(doc["status"]), str(doc["content_type"]), str(doc["body"]))
