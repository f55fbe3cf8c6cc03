"""Stand-in images for the engine suite, built from Debian bookworm (no image registry is reachable).

One base image (`debootstrap --variant=minbase` + `docker import`), one tools image on it with every
Debian package the stand-ins need (a single `apt-get install`), and thin images on the tools image
that give a stand-in the upstream image's entry point. Every tag carries a hash of what went into
the image, so an image is built once and reused until its inputs change.

`python -m tests.support.engine.images` builds (or finds) them all and prints upstream ref -> stand-in ref.
docs/engine-test.md has the table of what each stand-in replaces and how it differs.
"""

from __future__ import annotations

import hashlib
import io
import modulefinder
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import docker
from docker.errors import ImageNotFound

from tests.support.paths import REPO_ROOT

REPOSITORY = "friday-engine"
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
# Bump to rebuild everything when the way images are made changes.
RECIPE = "1"
DEBOOTSTRAP_TIMEOUT_S = 600
BUILD_TIMEOUT_S = 900

# One apt-get install for every stand-in: the binaries, their healthcheck tool (wget) and the
# gateway double's Python libraries.
PACKAGES = (
    "ca-certificates",
    "caddy",
    "nginx",
    "prometheus",
    "prometheus-alertmanager",
    "prometheus-blackbox-exporter",
    "python3",
    "python3-aiohttp",
    "python3-yaml",
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


def repo_modules(script: Path) -> dict[str, Path]:
    """Every repository file `script` imports, directly or not (found by the stdlib's ModuleFinder),
    as {path in the build context: file}: what the gateway stand-in needs, and only that."""
    finder = modulefinder.ModuleFinder(path=[str(REPO_ROOT)])
    finder.run_script(str(script))
    files = {script.relative_to(REPO_ROOT).as_posix(): script}
    for parent in script.parents:
        if parent == REPO_ROOT:
            break
        files[(parent / "__init__.py").relative_to(REPO_ROOT).as_posix()] = parent / "__init__.py"
    for module in finder.modules.values():
        found: str | None = getattr(module, "__file__", None)
        if found and Path(found).resolve().is_relative_to(REPO_ROOT):
            path = Path(found).resolve()
            files[path.relative_to(REPO_ROOT).as_posix()] = path
    return files


GATEWAY_STANDIN = REPO_ROOT / "tests/support/engine/gateway_standin.py"

# Upstream repository (without tag) -> its stand-in. The entry points mirror the upstream images'.
STANDINS: dict[str, StandIn] = {
    "ghcr.io/maccracken/secureyeoman-core": StandIn(
        "gateway",
        "COPY tests /opt/gateway-standin/tests\nCOPY infra /opt/gateway-standin/infra\n"
        "ENV PYTHONPATH=/opt/gateway-standin PYTHONDONTWRITEBYTECODE=1\n"
        'ENTRYPOINT ["python3", "-m", "tests.support.engine.gateway_standin"]\n',
        repo_modules(GATEWAY_STANDIN),
    ),
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


def build_all(client: docker.DockerClient) -> dict[str, str]:
    """{upstream repository: stand-in ref}, building whatever is missing."""
    tools = tools_image(client)
    return {upstream: standin_image(client, tools, s) for upstream, s in STANDINS.items()}


def main() -> int:
    client = docker.from_env(timeout=BUILD_TIMEOUT_S)
    for upstream, ref in build_all(client).items():
        print(f"{upstream} -> {ref}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
