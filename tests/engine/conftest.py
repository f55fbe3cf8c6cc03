"""Session fixtures of the engine suite: the engine, its images (the real gateway, stand-ins for the
rest), the two running stacks.

Everything the suite creates carries the label `friday.engine-run=<run id>` and is removed at the
end of the session, passed or failed (scripts/engine-suite.sh removes it too if the session dies).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker
import pytest

from tests.support import real_gateway
from tests.support.engine import images
from tests.support.engine.provider import cleanup
from tests.support.engine.stack import RunningStack, StackRunner, prepare, stack_deviations

RUN_ENV = "FRIDAY_ENGINE_RUN"
# The real gateway's build folder scripts/engine-suite.sh built the image from (so the session uses that one).
GATEWAY_BUILD_ENV = "FRIDAY_GATEWAY_BUILD"
# The proxy variant: nginx in front, the gateway no longer published.
PROXY_VARIANT = {"proxyEnabled": True, "proxyKind": "nginx", "proxyServerName": "localhost"}


@pytest.fixture(scope="session")
def run_id() -> str:
    return os.environ.get(RUN_ENV) or secrets.token_hex(4)


@pytest.fixture(scope="session")
def client(run_id: str) -> Iterator[docker.DockerClient]:
    try:
        engine = docker.from_env(timeout=120)
        engine.ping()
    except docker.errors.DockerException as err:
        pytest.fail(f"no Docker engine answers ({err}); `make test` starts one (scripts/engine.sh start)")
    yield engine
    removed = cleanup(engine, run_id)
    leftover = cleanup(engine, run_id)
    assert not leftover, f"left on the engine after cleanup: {leftover}"
    print(f"\nengine run {run_id}: removed {len(removed)} containers, networks and volumes")


@pytest.fixture(scope="session")
def engine_images(client: docker.DockerClient) -> dict[str, str]:
    """{upstream repository: image on the engine}. The gateway's is the real gateway: without its source
    every test here is skipped with the reason (and fails under CI=true)."""
    given = os.environ.get(GATEWAY_BUILD_ENV)
    return images.build_all(client, Path(given) if given else real_gateway.require_build())


@pytest.fixture(scope="session")
def stacks(
    client: docker.DockerClient, engine_images: dict[str, str], run_id: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, RunningStack]:
    """Both stacks, brought up at the same time (each in its provider's order, with the gateway's admin
    API key made once the gateway is up: tests/support/engine/stack.py)."""
    prepared = {
        "dev": prepare(run_id, "dev", {}, tmp_path_factory.mktemp("tls-dev")),
        "proxy": prepare(run_id, "proxy", PROXY_VARIANT, tmp_path_factory.mktemp("tls-proxy")),
    }
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            name: pool.submit(StackRunner(client, stack_deviations(engine_images, run_id), s).up)
            for name, s in prepared.items()
        }
        return {name: f.result() for name, f in futures.items()}


@pytest.fixture(scope="session")
def dev_stack(stacks: dict[str, RunningStack]) -> RunningStack:
    return stacks["dev"]


@pytest.fixture(scope="session")
def proxy_stack(stacks: dict[str, RunningStack]) -> RunningStack:
    return stacks["proxy"]


@pytest.fixture(scope="session")
def tls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tls")
