"""The real consumers of the rendered artefacts, run on them wherever they are installed.

`check --deployable` (and `pulumi up`, through infra/preflight.py) hands every rendered file that
an outside tool reads to that tool's own checker: promtool check config / check rules, amtool
check-config, nginx -t or caddy validate (when the proxy is on), systemd-analyze verify on the
bare-metal units, openssl on the proxy certificate. A tool that refuses its file is a blocker; a
tool that is not installed is reported as not run, one line each. Nothing here changes what is
rendered: the files are written into a temporary folder, with the places a check cannot reach
here (the proxy's upstream, its certificate, secret files) pointed at local stand-ins.

Secret values are used where a tool needs them (an alert receiver URL filled into
alertmanager.yml, the proxy certificate) and never shown: a tool's output has them replaced by
their placeholders before it is reported.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from infra.settings import Settings
from infra.settings.secrets import PROXY_TLS_KEYS, placeholder
from infra.stack import proxy
from infra.stack.nginx_runtime import NginxRuntime
from infra.stack.proxy_config import caddyfile, nginx_conf

TOOL_TIMEOUT_SECONDS = 30
# What stands in for a secret filled into a file when its value was not decrypted: a URL the
# tools accept, so the rest of the file is still checked.
STAND_IN_URL = "https://secret-not-decrypted.invalid/"
_PLACEHOLDER = re.compile(r"<secret:([A-Za-z]+)>")

PROMETHEUS_CONFIGS = ("files/prometheus/etc/prometheus/prometheus.yml", "host/prometheus/prometheus.yml")
ALERTMANAGER_CONFIG = "files/alertmanager/etc/alertmanager/alertmanager.yml"
SYSTEMD_DIR = "host/systemd"

Which = Callable[[str], str | None]


@dataclass
class Report:
    checked: list[str] = field(default_factory=list)  # "<tool> on <what>: accepted"
    refused: list[str] = field(default_factory=list)  # blockers, each naming the tool and the file
    not_run: list[str] = field(default_factory=list)  # "<tool> is not installed: ..."
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Job:
    tool: str  # the tool's name as installed
    label: str  # what is checked, for the report
    argv: tuple[str, ...]  # arguments after the tool
    cwd: Path
    env: Mapping[str, str] | None = None
    # output that means refusal even with exit code 0 (systemd-analyze only warns)
    refusing_lines: tuple[str, ...] = ()
    output_warns: bool = False  # any other output is a warning


def find(name: str) -> str | None:
    """The tool on PATH, or in the sbin folders nginx lives in."""
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/local/sbin")


def run_consumers(
    settings: Settings,
    files: Mapping[str, str],
    secret_values: Mapping[str, str] | None = None,
    *,
    which: Which | None = None,
) -> Report:
    """Write the artefacts into a temporary folder and run each installed consumer on its files.

    which: how a tool is found (default `find`, looked up when called).
    """
    which = which or find
    report = Report()
    values = dict(secret_values or {})
    with tempfile.TemporaryDirectory(prefix="friday-consumers-") as folder:
        root = Path(folder)
        root.chmod(0o755)  # nginx -t as root checks paths as its worker user
        _write(root, files, values)
        jobs: list[Job] = []
        for make in (_prometheus, _alertmanager, _systemd, _proxy, _certificate):
            jobs += make(settings, root, files, values, which)
        by_tool: dict[str, list[Job]] = {}
        for job in jobs:
            by_tool.setdefault(job.tool, []).append(job)
        runnable = []
        for tool, tool_jobs in by_tool.items():
            path = which(tool)
            if path is None:
                report.not_run.append(
                    f"{tool} is not installed here: not run on {', '.join(j.label for j in tool_jobs)}"
                )
            else:
                runnable += [(path, job) for job in tool_jobs]
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(lambda pj: _run(pj[0], pj[1], values), runnable))
        for (_, job), (refusal, warnings) in zip(runnable, results, strict=True):
            report.warnings += warnings
            if refusal is None:
                report.checked.append(f"{job.tool} on {job.label}: accepted")
            else:
                report.refused.append(f"{job.tool} refuses {job.label}: {refusal}")
    return report


def _write(root: Path, files: Mapping[str, str], values: Mapping[str, str]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_fill(content, values), encoding="utf-8")
    # Secret files a config names (promtool and amtool check that they exist): placeholders.
    for rel, content in files.items():
        if rel.startswith("services/"):
            doc = json.loads(content)
            for secret_file in doc.get("secret_files", []):
                path = root / "files" / doc["name"] / secret_file["path"].lstrip("/")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(secret_file["content"], encoding="utf-8")


def _fill(content: str, values: Mapping[str, str]) -> str:
    """Secrets filled into a file at deploy time (alert receiver URLs): the value, or a stand-in."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), STAND_IN_URL), content)


def _run(path: str, job: Job, values: Mapping[str, str]) -> tuple[str | None, list[str]]:
    """(why the tool refused, or None; its warnings), with every secret value hidden."""
    try:
        done = subprocess.run(
            [path, *job.argv],
            cwd=job.cwd,
            env=dict(job.env) if job.env is not None else None,
            capture_output=True,
            text=True,
            timeout=TOOL_TIMEOUT_SECONDS,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"it did not finish within {TOOL_TIMEOUT_SECONDS}s", []
    except OSError as err:
        return f"it could not be started ({err.strerror})", []
    output = _hide(done.stdout + done.stderr, values, job.cwd)
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    refusing = [line for line in lines if any(word in line for word in job.refusing_lines)]
    if done.returncode != 0 or refusing:
        problems = refusing or [line for line in lines if not _noise(line)] or lines
        return f"{'; '.join(problems[-3:]) or f'exit code {done.returncode}'}", []
    return None, [f"{job.tool} on {job.label}: {line}" for line in lines if job.output_warns]


def _noise(line: str) -> bool:
    """A line of a tool's output that says nothing about what is wrong."""
    if line.startswith("Checking") and "FAILED" not in line:
        return True
    return "SUCCESS" in line or "failed to validate" in line


def _hide(text: str, values: Mapping[str, str], root: Path) -> str:
    for key, value in sorted(values.items(), key=lambda kv: -len(kv[1])):
        if len(value) >= 4:
            text = text.replace(value, placeholder(key))
    return text.replace(str(root) + "/", "")


def _prometheus(
    settings: Settings, root: Path, files: Mapping[str, str], values: Mapping[str, str], which: Which
) -> Iterator[Job]:
    for rel in PROMETHEUS_CONFIGS:
        if rel in files:
            config = root / rel
            yield Job("promtool", rel, ("check", "config", config.name), config.parent)
    rules = sorted(r for r in files if r.startswith("files/prometheus/etc/prometheus/rules/"))
    if rules:
        yield Job("promtool", "the alert and recording rules", ("check", "rules", *rules), root)


def _alertmanager(
    settings: Settings, root: Path, files: Mapping[str, str], values: Mapping[str, str], which: Which
) -> Iterator[Job]:
    if ALERTMANAGER_CONFIG in files:
        filled = "" if values or "<secret:" not in files[ALERTMANAGER_CONFIG] else " (receiver URLs not decrypted)"
        yield Job("amtool", ALERTMANAGER_CONFIG + filled, ("check-config", ALERTMANAGER_CONFIG), root)


def _systemd(
    settings: Settings, root: Path, files: Mapping[str, str], values: Mapping[str, str], which: Which
) -> Iterator[Job]:
    units = sorted(r for r in files if r.startswith(SYSTEMD_DIR + "/"))
    if units:
        # Unknown keys and bad values only warn (exit code 0): those lines are refusals here. A program
        # missing on this machine is only a warning: the host it runs on is another one.
        yield Job(
            "systemd-analyze",
            "the bare-metal systemd units",
            ("verify", "--man=no", *(f"./{Path(u).name}" for u in units)),
            root / SYSTEMD_DIR,
            refusing_lines=("Unknown key", "Unknown section", "Failed to parse", "Invalid", "bad-setting"),
            output_warns=True,
        )


def _proxy_cert(root: Path, values: Mapping[str, str]) -> tuple[Path, Path] | None:
    cert_key, key_key = PROXY_TLS_KEYS
    if cert_key in values and key_key in values:
        cert, key = root / "proxy-tls/cert.pem", root / "proxy-tls/key.pem"
        cert.parent.mkdir(exist_ok=True)
        cert.write_text(values[cert_key], encoding="utf-8")
        key.write_text(values[key_key], encoding="utf-8")
        return cert, key
    return None


def _stand_in_cert(root: Path, name: str, which: Which) -> tuple[Path, Path] | None:
    """A throw-away self-signed certificate for the proxy check when the real one is not at hand."""
    openssl = which("openssl")
    if openssl is None:
        return None
    folder = root / "stand-in-tls"
    folder.mkdir(exist_ok=True)
    cert, key = folder / "cert.pem", folder / "key.pem"
    done = subprocess.run(
        [
            *(openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"),
            *("-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", f"/CN={name}"),
        ],
        capture_output=True,
        timeout=TOOL_TIMEOUT_SECONDS,
        check=False,
    )
    return (cert, key) if done.returncode == 0 else None


def _proxy(
    settings: Settings, root: Path, files: Mapping[str, str], values: Mapping[str, str], which: Which
) -> Iterator[Job]:
    # The settings refuse proxyEnabled but on the docker target (the Ingress is Kubernetes' proxy).
    if not settings.proxy_enabled:
        return
    kind = settings.proxy_kind
    tool = "nginx" if kind == "nginx" else "caddy"
    if which(tool) is None:  # reported as not run; no certificate needed
        yield Job(tool, f"the {kind} proxy config", (), root)
        return
    pair = _proxy_cert(root, values) or _stand_in_cert(root, settings.proxy_server_name, which)
    if pair is None:
        return
    folder = root / "proxy-check"
    folder.mkdir()
    folder.chmod(0o755)
    # The rendered config's own text, with only the places this machine lacks replaced: the gateway
    # upstream (a container name), the certificate files and the runtime folder.
    params = dataclasses.replace(
        proxy.params(settings),
        http_listen="127.0.0.1:8080",
        https_listen="127.0.0.1:8443",
        upstream=f"127.0.0.1:{settings.gateway_port}",
        cert_path=str(pair[0]),
        key_path=str(pair[1]),
        nginx_runtime=NginxRuntime(str(folder), str(folder / "error.log"), str(folder / "access.log")),
        caddy_storage_dir=str(folder / "caddy-storage"),
    )
    config = folder / proxy.CONFIG_FILE[kind]
    label = f"the {kind} proxy config"
    if kind == "nginx":
        config.write_text(nginx_conf(params), encoding="utf-8")
        argv = ("-t", "-q", "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(config))
        yield Job(tool, label, (*argv, "-g", "daemon off;"), folder)
    else:
        config.write_text(caddyfile(params), encoding="utf-8")
        env = {**os.environ, "HOME": str(folder), "XDG_DATA_HOME": str(folder), "XDG_CONFIG_HOME": str(folder)}
        yield Job(tool, label, ("validate", "--adapter", "caddyfile", "--config", str(config)), folder, env)


def _certificate(
    settings: Settings, root: Path, files: Mapping[str, str], values: Mapping[str, str], which: Which
) -> Iterator[Job]:
    if not (settings.proxy_enabled and settings.proxy_tls_source == "secrets"):
        return
    pair = _proxy_cert(root, values)
    if pair is None:
        return
    cert, key = pair
    what = "the proxy certificate (proxyTlsCert)"
    yield Job("openssl", f"{what}: still valid", ("x509", "-noout", "-checkend", "0", "-in", str(cert)), root)
    yield Job("openssl", "the proxy key (proxyTlsKey)", ("pkey", "-noout", "-in", str(key)), root)
    # Whether it names proxyServerName is judged once, by infra/tls_check.py (the same blocker twice helps no one).
