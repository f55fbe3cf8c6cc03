"""Small helpers the engine tests share: exec in a container, HTTP from the host, bounded polling."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import docker
import requests

T = TypeVar("T")
CAP_BITS = {"CHOWN": 0, "DAC_OVERRIDE": 1, "FOWNER": 3, "SETGID": 6, "SETUID": 7, "NET_BIND_SERVICE": 10}


def run_in(
    client: docker.DockerClient, container_id: str, *argv: str, user: str = "", expect_output: bool = False
) -> tuple[int, str]:
    """Run a command in a running container (as its user unless told); exit code and output.

    expect_output: the command prints something whenever it succeeds (sha256sum, stat), so a success
    with no output is the engine losing it (Docker 20.10 can drop a short-lived exec's output: seen in a full CI run,
    the file readable and the digest right just before); run it again, at most three times in all."""
    for _ in range(3):
        result = client.containers.get(container_id).exec_run(list(argv), user=user, demux=False)
        code, out = int(result.exit_code), result.output.decode(errors="replace")
        if not (expect_output and code == 0 and not out):
            break
    return code, out


def session() -> requests.Session:
    """A session that goes straight to the engine's addresses (no HTTP(S)_PROXY from the environment)."""
    s = requests.Session()
    s.trust_env = False
    return s


def get(url: str, **kwargs: Any) -> requests.Response:
    return session().get(url, timeout=10, **kwargs)


def poll(what: str, probe: Callable[[], T | None], timeout_s: float, every_s: float = 1.0) -> T:
    """Call probe until it returns something (not None), at most timeout_s; the last value explains a failure."""
    deadline = time.monotonic() + timeout_s
    last: object = None
    while time.monotonic() < deadline:
        try:
            found = probe()
        except (requests.RequestException, KeyError, ValueError) as err:
            found, last = None, err
        if found is not None:
            return found
        time.sleep(every_s)
    raise AssertionError(f"{what}: not within {timeout_s:.0f}s (last: {last!r})")


def proc_status(client: docker.DockerClient, container_id: str) -> dict[str, str]:
    code, out = run_in(client, container_id, "cat", "/proc/1/status")
    assert code == 0, out
    return dict(line.split(":\t", 1) for line in out.splitlines() if ":\t" in line)


def capability_mask(names: tuple[str, ...]) -> int:
    mask = 0
    for name in names:
        mask |= 1 << CAP_BITS[name]
    return mask
