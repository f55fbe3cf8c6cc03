"""Images for the engine suite, built from Debian bookworm (no image registry is reachable).

One base image (`debootstrap --variant=minbase` + `docker import`), one tools image on it with every
Debian package the stand-ins need (a single `apt-get install`), and thin images on the tools image
that give a stand-in the upstream image's entry point. The gateway's image is the real gateway:
the build of scripts/build-gateway.sh (its Node binary and its app tree) on the tools image, started
as upstream's image starts it. Every tag carries a hash of what went into the image, so an image is
built once and reused until its inputs change.

`python -m tests.support.engine.images [GATEWAY_BUILD]` builds (or finds) them all and prints
upstream ref -> image ref. docs/engine-test.md has the table of what each image replaces and how it differs.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
from docker.errors import ImageNotFound

from infra.settings.groups import GatewaySettings
from tests.support import real_gateway

REPOSITORY = "friday-engine"
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
# Bump to rebuild everything when the way images are made changes.
RECIPE = "1"
DEBOOTSTRAP_TIMEOUT_S = 600
BUILD_TIMEOUT_S = 900

# One apt-get install for every stand-in: the binaries and their healthcheck tool (wget, which the
# real gateway's healthcheck uses too).
PACKAGES = (
    "ca-certificates",
    "caddy",
    "nginx",
    "prometheus",
    "prometheus-alertmanager",
    "prometheus-blackbox-exporter",
    "python3",
    "sqlite3",
    "wget",
)

TOOLS_DOCKERFILE = f"""\
FROM {{base}}
RUN apt-get update -qq \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends {" ".join(PACKAGES)} >/dev/null \\
 && apt-get clean && rm -rf /var/lib/apt/lists/* /var/log/apt /var/log/dpkg.log
"""


@dataclass(frozen=True)
class StandIn:
    """A thin image on the tools image; `files` are {path in the build context: repo file}."""

    name: str
    dockerfile_tail: str = ""
    files: dict[str, Path] = field(default_factory=dict)


# Upstream repository (without tag) -> its stand-in. The entry points mirror the upstream images'.
STANDINS: dict[str, StandIn] = {
    # The data folders are owned by nobody, as in the upstream images: Docker copies an image
    # folder's ownership onto an empty volume mounted over it.
    "prom/prometheus": StandIn(
        "prometheus",
        'RUN install -d -o 65534 -g 65534 /prometheus\nWORKDIR /prometheus\nENTRYPOINT ["/usr/bin/prometheus"]\n',
    ),
    "prom/alertmanager": StandIn(
        "alertmanager",
        "RUN install -d -o 65534 -g 65534 /alertmanager\nWORKDIR /alertmanager\n"
        'ENTRYPOINT ["/usr/bin/prometheus-alertmanager"]\n',
    ),
    "prom/blackbox-exporter": StandIn("blackbox", 'ENTRYPOINT ["/usr/bin/prometheus-blackbox-exporter"]\n'),
    "python": StandIn("python"),
    "busybox": StandIn("busybox"),
    "nginxinc/nginx-unprivileged": StandIn("nginx"),
    "caddy": StandIn("caddy"),
}

# Upstream images with no Debian build of their program: the engine suite leaves their services out.
LEFT_OUT = {
    "grafana/grafana-oss": "grafana",
    "grafana/grafana": "grafana",
    "grafana/loki": "loki",
    "grafana/alloy": "alloy",
}

# The real gateway replaces upstream's image of it: the build of scripts/build-gateway.sh (its Node
# binary, which compiled the native SQLite module, and the app tree) on the tools image, laid out and
# started as upstream's Dockerfile does (WORKDIR /app, CMD node packages/core/dist/cli.js, a non-root
# user `friday`, wget for the healthcheck), with the stack's default uid and gid.
GATEWAY_REPOSITORY = str(GatewaySettings.model_fields["gateway_image"].default)
GATEWAY_APP_DIR = "/app"
GATEWAY_UID = int(GatewaySettings.model_fields["gateway_uid"].default)
GATEWAY_GID = int(GatewaySettings.model_fields["gateway_gid"].default)
GATEWAY_DOCKERFILE = f"""\
FROM {{tools}}
RUN groupadd -g {GATEWAY_GID} friday \\
 && useradd -u {GATEWAY_UID} -g {GATEWAY_GID} -d {GATEWAY_APP_DIR} -M -s /usr/sbin/nologin friday
COPY node /usr/local/bin/node
COPY app {GATEWAY_APP_DIR}
WORKDIR {GATEWAY_APP_DIR}
USER {GATEWAY_UID}:{GATEWAY_GID}
EXPOSE {GatewaySettings.model_fields["gateway_port"].default}
CMD ["node", "{real_gateway.ENTRY.relative_to("app").as_posix()}"]
"""
# The build context is streamed to the engine in chunks of this size (it is about 300 MB).
CONTEXT_CHUNK = 1 << 20


def _digest(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()[:16]


def _exists(client: docker.DockerClient, ref: str) -> bool:
    try:
        client.images.get(ref)
    except ImageNotFound:
        return False
    return True


def _log(message: str) -> None:
    print(f"[engine images] {message}", file=sys.stderr, flush=True)


def _drop_older(client: docker.DockerClient, repository: str, keep: str) -> None:
    """Remove earlier builds of one image (other hashes), so the cache does not grow without end."""
    for image in client.images.list(name=repository):
        for tag in image.tags:
            if tag.startswith(f"{repository}:") and tag != keep:
                client.images.remove(tag, noprune=False)


def base_image(client: docker.DockerClient) -> str:
    ref = f"{REPOSITORY}/base:{_digest(RECIPE, SUITE, 'minbase', MIRROR)}"
    if _exists(client, ref):
        return ref
    debootstrap = shutil.which("debootstrap") or "/usr/sbin/debootstrap"
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="friday-engine-rootfs-") as tmp:
        root = Path(tmp) / "root"
        _log(f"debootstrap {SUITE} (minbase) ...")
        subprocess.run(
            [debootstrap, "--variant=minbase", SUITE, str(root), MIRROR],
            check=True,
            capture_output=True,
            timeout=DEBOOTSTRAP_TIMEOUT_S,
        )
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for path in (root / junk).glob("*"):
                if path.is_file():
                    path.unlink()
        tar = subprocess.Popen(["tar", "-C", str(root), "--numeric-owner", "-cf", "-", "."], stdout=subprocess.PIPE)
        assert tar.stdout is not None
        # `docker import` streams the tarball; the SDK would hold it in memory.
        subprocess.run(["docker", "import", "-", ref], stdin=tar.stdout, check=True, capture_output=True, timeout=300)
        tar.stdout.close()
        if tar.wait(timeout=60) != 0:
            raise RuntimeError("tar of the debootstrap root failed")
    _log(f"{ref} imported in {time.monotonic() - started:.0f}s")
    _drop_older(client, f"{REPOSITORY}/base", ref)
    return ref


def _build(client: docker.DockerClient, ref: str, dockerfile: str, files: dict[str, Path]) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = dockerfile.encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        for name, source in sorted(files.items()):
            tar.add(str(source), arcname=name)
    buf.seek(0)
    started = time.monotonic()
    _log(f"building {ref} ...")
    try:
        client.images.build(fileobj=buf, custom_context=True, tag=ref, rm=True, forcerm=True, timeout=BUILD_TIMEOUT_S)
    except docker.errors.BuildError as err:
        log = "".join(str(chunk.get("stream", chunk.get("error", ""))) for chunk in err.build_log)
        raise RuntimeError(f"building {ref} failed:\n{log[-4000:]}") from err
    _log(f"{ref} built in {time.monotonic() - started:.0f}s")


def _root_owned(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def context_chunks(dockerfile: str, members: dict[str, Path]) -> Iterator[bytes]:
    """A build context (the Dockerfile and `members`, {name in the context: file or folder}) as a tar
    stream: a thread writes the tar into a pipe and this yields what it wrote, chunk by chunk, so the
    context is read from disk as the engine takes it and never held in memory. Symlinks stay symlinks."""
    read_fd, write_fd = os.pipe()
    failed: list[BaseException] = []

    def write() -> None:
        try:
            with os.fdopen(write_fd, "wb") as out, tarfile.open(fileobj=out, mode="w|") as tar:
                data = dockerfile.encode()
                info = tarfile.TarInfo("Dockerfile")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
                for name, source in sorted(members.items()):
                    tar.add(str(source), arcname=name, filter=_root_owned)
        except BaseException as err:  # BrokenPipeError when the reader stopped: reported below
            failed.append(err)

    writer = threading.Thread(target=write, name="build-context", daemon=True)
    writer.start()
    try:
        with os.fdopen(read_fd, "rb") as source:
            while chunk := source.read(CONTEXT_CHUNK):
                yield chunk
    finally:
        writer.join(timeout=60)
    if failed:
        raise RuntimeError(f"writing the build context failed: {failed[0]!r}") from failed[0]


def _build_streamed(client: docker.DockerClient, ref: str, chunks: Iterator[bytes]) -> None:
    """Build from a streamed context (sent chunked; the SDK's `images.build` wants it in one piece)."""
    started = time.monotonic()
    _log(f"building {ref} ...")
    output: list[str] = []
    stream: Iterator[dict[str, Any]] = client.api.build(
        fileobj=chunks, custom_context=True, tag=ref, rm=True, forcerm=True, decode=True, timeout=BUILD_TIMEOUT_S
    )
    for item in stream:
        if "error" in item:
            raise RuntimeError(f"building {ref} failed: {item['error']}\n{''.join(output)[-4000:]}")
        output.append(str(item.get("stream", "")))
    if not _exists(client, ref):
        raise RuntimeError(f"building {ref} ended without the image:\n{''.join(output)[-4000:]}")
    _log(f"{ref} built in {time.monotonic() - started:.0f}s")


def gateway_image(client: docker.DockerClient, tools: str, build: Path) -> str:
    """The real gateway's image from a scripts/build-gateway.sh build folder. The folder's name is the
    hash of the build's inputs (source, script, Node version, pins): with the Dockerfile it makes the
    tag, so 300 MB are not hashed on every run and a rebuild of the same inputs reuses the image."""
    dockerfile = GATEWAY_DOCKERFILE.format(tools=tools)
    ref = f"{REPOSITORY}/gateway:{_digest(RECIPE, dockerfile, build.name)}"
    if not _exists(client, ref):
        members = {"node": build / "node", "app": build / "app"}
        _build_streamed(client, ref, context_chunks(dockerfile, members))
        _drop_older(client, f"{REPOSITORY}/gateway", ref)
    return ref


def tools_image(client: docker.DockerClient) -> str:
    base = base_image(client)
    dockerfile = TOOLS_DOCKERFILE.format(base=base)
    ref = f"{REPOSITORY}/tools:{_digest(RECIPE, dockerfile)}"
    if not _exists(client, ref):
        _build(client, ref, dockerfile, {})
        _drop_older(client, f"{REPOSITORY}/tools", ref)
    return ref


def standin_image(client: docker.DockerClient, tools: str, standin: StandIn) -> str:
    dockerfile = f"FROM {tools}\n{standin.dockerfile_tail}"
    file_hashes = [
        f"{name}={hashlib.sha256(path.read_bytes()).hexdigest()}" for name, path in sorted(standin.files.items())
    ]
    ref = f"{REPOSITORY}/{standin.name}:{_digest(RECIPE, dockerfile, *file_hashes)}"
    if not _exists(client, ref):
        _build(client, ref, dockerfile, standin.files)
        _drop_older(client, f"{REPOSITORY}/{standin.name}", ref)
    return ref


def build_all(client: docker.DockerClient, gateway_build: Path) -> dict[str, str]:
    """{upstream repository: image ref} (the real gateway and the stand-ins), building whatever is missing."""
    tools = tools_image(client)
    refs = {upstream: standin_image(client, tools, s) for upstream, s in STANDINS.items()}
    refs[GATEWAY_REPOSITORY] = gateway_image(client, tools, gateway_build)
    return refs


def main(argv: list[str]) -> int:
    """Build every image; the gateway from the build folder given (scripts/build-gateway.sh's output),
    or from whatever that script finds or builds."""
    build = Path(argv[0]) if argv else real_gateway.build_dir()
    client = docker.from_env(timeout=BUILD_TIMEOUT_S)
    for upstream, ref in build_all(client, build).items():
        print(f"{upstream} -> {ref}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
