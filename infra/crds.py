"""The Prometheus Operator CRDs: a pinned, checksummed download cached outside the clone.

One pin: OPERATOR_VERSION, the operator release that the pinned kube-prometheus-stack chart ships
(CHART_OPERATOR), with the sha256 of every CRD file of that release (the operator's repository,
folder example/prometheus-operator-crd/ at tag v<version>). `python -m infra.crds` (scripts/crds.sh)
fills the cache: from a local folder given as the source (offline), or else from the operator's
repository over HTTPS. Either way every file is checked against its pinned sha256 before it lands in
the cache, and a file in the cache is checked again each time it is read (`verified`): the tests read
their CRD schemas from there and the Pulumi program applies exactly the bytes it checked.

Standard library only: it runs before the virtualenv has anything but pip.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import urllib.request
from pathlib import Path

# Renovate (renovate.json) updates this pin in one group with the kube-prometheus-stack chart; a new
# version needs its checksums below (a test fails until they are there and CHART_OPERATOR agrees).
OPERATOR_VERSION = "0.93.0"
# kube-prometheus-stack chart version -> the operator release it ships (its Chart.yaml appVersion; the
# chart's release notes say which chart version bumped the operator).
CHART_OPERATOR = {"88.0.0": "0.93.0"}
URL = "https://raw.githubusercontent.com/prometheus-operator/prometheus-operator/v{version}/example/prometheus-operator-crd/{file}"
CHECKSUMS: dict[str, dict[str, str]] = {
    "0.93.0": {
        "monitoring.coreos.com_alertmanagerconfigs.yaml": (
            "fed47c462483a47a4d1912bf8a7a3767618644cfdee86dc73d7624c55d6a8b9d"
        ),
        "monitoring.coreos.com_alertmanagers.yaml": (
            "0e8eccd22699818c93f619c8fe2d92dbbd783a7e9232827a886dedeac1fb5dc1"
        ),
        "monitoring.coreos.com_podmonitors.yaml": ("45a93443daa687d3654f7e9631909ff7edcdf3ec09c5e60251b74aa2722aee5d"),
        "monitoring.coreos.com_probes.yaml": ("f4ead9704bd4c6303d53e4cc15670faaf0609022a5e08c0ce496286f453666b7"),
        "monitoring.coreos.com_prometheusagents.yaml": (
            "6bb4afd89a2721ba02327336623344358c57b5a1a2ecaeccd792e0234ef6b612"
        ),
        "monitoring.coreos.com_prometheuses.yaml": ("c0eed4b2c38a58e3a5be7e2f5846df067804c694b0c9316b35029ab68fa183a4"),
        "monitoring.coreos.com_prometheusrules.yaml": (
            "78be98554b9c8506ab2b4f4feb91c5f3a56e536a0a510f3a8e876a459970d56d"
        ),
        "monitoring.coreos.com_scrapeconfigs.yaml": (
            "d525ef261d8a3a050528a7d90cecab13f1f3f9020eb0f1f54850b6f5c1f2e641"
        ),
        "monitoring.coreos.com_servicemonitors.yaml": (
            "a99047972c9dd7679ce2050b9968e8a08773492e671b3e17abd476d42aa78a32"
        ),
        "monitoring.coreos.com_thanosrulers.yaml": ("160bcffd1ce4904b5fde97ac40676019aa02427f0d64432f4dd71a711275b82c"),
    },
}
# The kinds the stack's own objects use (ServiceMonitor, PodMonitor, Probe, PrometheusRule,
# AlertmanagerConfig): enough for the tests, which validate those objects against their CRDs. Install
# mode's `pulumi up` applies every file of the release (the chart's Prometheus and Alertmanager too).
STACK_FILES = (
    "monitoring.coreos.com_alertmanagerconfigs.yaml",
    "monitoring.coreos.com_podmonitors.yaml",
    "monitoring.coreos.com_probes.yaml",
    "monitoring.coreos.com_prometheusrules.yaml",
    "monitoring.coreos.com_servicemonitors.yaml",
)
DOWNLOAD_TIMEOUT_S = 60


class CrdError(Exception):
    """A CRD file is missing, unpinned or does not match its checksum."""


def cache_root() -> Path:
    """FRIDAY_CRD_CACHE, else $XDG_CACHE_HOME/friday-infra/crds, else ~/.cache/friday-infra/crds."""
    explicit = os.environ.get("FRIDAY_CRD_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "friday-infra" / "crds"


def cache_dir(version: str = OPERATOR_VERSION) -> Path:
    return cache_root() / version


def checksums(version: str) -> dict[str, str]:
    if version not in CHECKSUMS:
        raise CrdError(
            f"no pinned checksums for Prometheus Operator {version}: pinned are {', '.join(sorted(CHECKSUMS))} "
            "(infra/crds.py)"
        )
    return CHECKSUMS[version]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _check(version: str, file: str, data: bytes, where: str) -> None:
    want = checksums(version)[file]
    got = sha256(data)
    if got != want:
        raise CrdError(f"{where}: sha256 {got} is not the pinned {want} of {file} (operator {version})")


def verified(
    version: str = OPERATOR_VERSION, root: Path | None = None, files: tuple[str, ...] | None = None
) -> dict[str, bytes]:
    """{file: bytes} of the CRDs of `version` in the cache (every file, or `files`), each checked
    against its pinned sha256."""
    folder = (root or cache_root()) / version
    out = {}
    for file in sorted(files or checksums(version)):
        path = folder / file
        if not path.is_file():
            raise CrdError(
                f"{path} is missing: run scripts/crds.sh (the pinned, checksummed Prometheus Operator "
                f"{version} CRDs; `--source DIR` takes them from a local folder)"
            )
        data = path.read_bytes()
        _check(version, file, data, str(path))
        out[file] = data
    return out


def _download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as answer:
        data: bytes = answer.read()
    return data


def fetch(
    version: str = OPERATOR_VERSION, source: Path | None = None, root: Path | None = None
) -> tuple[list[str], list[str]]:
    """Fill the cache for `version`: (what was done, one line per file; the files neither the cache
    nor the source gave: not in a local source, or a download that failed). Every file is checked
    before it is written (to a temporary name, then renamed): a file that does not match its
    checksum never lands in the cache (CrdError)."""
    folder = (root or cache_root()) / version
    folder.mkdir(parents=True, exist_ok=True)
    done: list[str] = []
    missing: list[str] = []
    for file in sorted(checksums(version)):
        target = folder / file
        if target.is_file():
            try:
                _check(version, file, target.read_bytes(), str(target))
                done.append(f"{file}: already in the cache, sha256 checked")
                continue
            except CrdError as bad:
                done.append(f"{file}: cached copy refused ({bad}); fetching again")
        if source is not None:
            origin = str(source / file)
            if not (source / file).is_file():
                missing.append(file)
                done.append(f"{file}: not in the source, not cached")
                continue
            data = (source / file).read_bytes()
        else:
            origin = URL.format(version=version, file=file)
            try:
                data = _download(origin)
            except OSError as err:  # no network: said, and judged by the caller (main)
                missing.append(file)
                done.append(f"{file}: download from {origin} failed ({err}), not cached")
                continue
        _check(version, file, data, origin)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{file}.", delete=False) as tmp:
            tmp.write(data)
        os.replace(tmp.name, target)
        done.append(f"{file}: from {origin}, sha256 checked, cached")
    return done, missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.crds", description=__doc__.splitlines()[0])
    parser.add_argument("--version", default=OPERATOR_VERSION, help="operator release (default: the pin)")
    parser.add_argument(
        "--source", type=Path, help="a local folder holding the CRD files (offline); else they are downloaded"
    )
    args = parser.parse_args(argv)
    how = f"offline source {args.source}" if args.source else "download from the operator's repository"
    print(f"Prometheus Operator {args.version} CRDs into {cache_dir(args.version)} ({how}):")
    try:
        done, missing = fetch(args.version, args.source)
    except (CrdError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for line in done:
        print(f"  {line}")
    cached = len(checksums(args.version)) - len(missing)
    print(f"{cached} of {len(checksums(args.version))} files in the cache, each matching its pinned sha256")
    if missing:
        needed = sorted(set(missing) & set(STACK_FILES))
        print(
            f"note: {len(missing)} file(s) not cached; install mode's `pulumi up` applies every file of the "
            "release: run scripts/crds.sh where it can download them (or with a source holding them)",
            file=sys.stderr,
        )
        if needed:
            print(f"error: the stack's own kinds need {', '.join(needed)}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
