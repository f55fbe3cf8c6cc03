"""`make test`'s run of the host suite: a bare-metal-style install under a temporary root on this machine.

    python -m tests.support.local_host [extra pytest args]

Lays the rendered host files out under the root (systemd units, the backup tool, the gateway
config, its secrets file filled in at mode 0600, tmpfiles.d applied with `systemd-tmpfiles
--root`, the logrotate file; localized by testbed/localize.py: host folders under the
root, the current user for `friday`), installs the REAL gateway (scripts/build-gateway.sh) where
the rendered unit expects it (hostGatewayExec is a link to the build's Node, the install folder of
hostGatewayScript a link to the build's app tree) and starts it from the rendered unit: its
ExecStart (every absolute path under the root), its Environment= lines, its EnvironmentFile (the
secrets file as an operator fills it in), its WorkingDirectory and its StandardOutput=append: log
file, with the rendered gateway.yaml (localized: dataDir under the root, the port a free one, in
the config and in SECUREYEOMAN_PORT alike). The gateway creates its own seven databases. An admin
API key is then created through its API (login with the admin password of the secrets file), as
an operator does for metricsToken. Then it runs one backup with the rendered unit's own command,
starts the rendered metrics-auth proxy with that key, Debian's node-exporter with the rendered
ARGS (its textfile collector reads the backup metrics) and Debian's Prometheus with the stack's
RENDERED bare-metal configuration, host/prometheus/ (localized by testbed/localize.py, as
the live tests do: the gateway job scrapes the gateway through metrics-auth, the node job scrapes
node-exporter, Prometheus scrapes itself; Alertmanager does not run here), then runs
`pytest tests/infra --hosts=local:// --friday-mode baremetal` against it all.

Stand-ins, said plainly: the current user for the service user; the units' commands are run
directly, not by systemd (no systemd as PID 1 here: no sandboxing, no MemoryMax). Without a real
gateway (no source, no toolchain) the suite is not run and says why, exit code 0; under CI=true
that is a failure. Every process is stopped and the root removed at the end.
"""

from __future__ import annotations

import dataclasses
import grp
import json
import os
import pwd
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from infra import render
from infra.host import artefacts as host_files
from infra.host import backup as host_backup
from infra.host import layout
from infra.host import metrics_auth_unit as host_metrics_auth
from infra.host import prometheus_files as host_prometheus
from infra.monitoring import endpoints
from infra.render import artefacts
from infra.settings import Settings, load_stack, validate
from infra.settings.load import read_stack_file, stack_file
from infra.settings.secrets import METRICS_TOKEN, SECRETS
from infra.stack import build_stack, metrics_auth
from testbed import localize
from testbed.paths import REPO_ROOT
from testbed.processes import binary, free_port, http_ok, log_tail, process, wait_for
from tests.support.real_gateway import ENTRY, GatewayUnavailableError, RealGateway, build_dir
from tests.support.systemd import parse_unit

STACK = "dev"
TOKEN_PATH = "/etc/friday/metrics-token"
START_TIMEOUT_S = 30.0
# The whole host suite; its own waits are bounded, this catches anything else that hangs.
SUITE_TIMEOUT_S = 600.0


def under(root: Path, host_path: str) -> Path:
    return root / host_path.lstrip("/")


def local_users(root: Path) -> None:
    """root/etc/passwd and group naming the current user: `systemd-tmpfiles --root` resolves owners there."""
    me, my_group = localize.current_user()
    user, group = pwd.getpwnam(me), grp.getgrnam(my_group)
    etc = under(root, "/etc")
    etc.mkdir(parents=True, exist_ok=True)
    (etc / "passwd").write_text(f"{me}:x:{user.pw_uid}:{user.pw_gid}::/nonexistent:/usr/sbin/nologin\n")
    (etc / "group").write_text(f"{my_group}:x:{group.gr_gid}:\n")


def logrotate_conf(root: Path, settings: Settings) -> str:
    """The RENDERED host/logrotate/friday, localized for root (testbed/localize.py)."""
    text = artefacts(settings)[f"{host_files.PREFIX}logrotate/friday"]
    return localize.host_logrotate(text, root, settings)


def lay_out(root: Path, settings: Settings, gateway_port: int) -> None:
    """The rendered host artefacts at their host paths under root."""
    files = artefacts(settings)
    for rel, text in files.items():
        if rel.startswith(f"{host_backup.SYSTEMD_DIR}/"):
            dest = under(root, "/etc/systemd/system") / Path(rel).name
        elif rel.startswith(f"{host_backup.HOST_TOOL_RENDER_DIR}/"):
            dest = under(root, host_backup.HOST_TOOL_DIR) / Path(rel).relative_to(host_backup.HOST_TOOL_RENDER_DIR)
        else:
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text)
    # tmpfiles.d as rendered (owners: the current user), applied by the real systemd-tmpfiles:
    # it creates the data, log and backup folders and the log file with the rendered modes.
    local_users(root)
    tmpfiles = under(root, layout.INSTALL["tmpfiles/friday.conf"])
    tmpfiles.parent.mkdir(parents=True, exist_ok=True)
    tmpfiles.write_text(localize.host_tmpfiles(files[f"{host_files.PREFIX}tmpfiles/friday.conf"], settings))
    done = subprocess.run(
        ["systemd-tmpfiles", "--create", f"--root={root}", str(tmpfiles)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0 and not done.stderr, f"systemd-tmpfiles: {done.stderr}"
    # The rendered bare-metal gateway config (one stdout output: the unit appends stdout to the log).
    config = under(root, layout.CONFIG_PATH)
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        localize.host_gateway_config(files[f"{host_files.PREFIX}gateway/gateway.yaml"], root, gateway_port)
    )
    # The secrets file as an operator installs it: the rendered example filled in, mode 0600.
    env = under(root, layout.ENV_PATH)
    text = files[f"{host_files.PREFIX}env/gateway.env.example"]
    for spec in SECRETS:
        text = text.replace(spec.placeholder(), secrets.token_urlsafe(24))
    env.write_text(text)
    env.chmod(0o600)
    conf = under(root, layout.INSTALL["logrotate/friday"])
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(logrotate_conf(root, settings))
    conf.chmod(0o644)


def run_backup_unit(root: Path, settings: Settings) -> None:
    """The rendered unit's ExecStart, with its host paths moved under root, on the system Python."""
    unit = (under(root, "/etc/systemd/system") / f"{host_backup.UNIT}.service").read_text()
    env = dict(re.findall(r"(\w+)=(\S+)", re.search(r"^Environment=(.*)$", unit, re.MULTILINE)[1]))  # type: ignore[index]
    argv = shlex.split(re.search(r"^ExecStart=(.*)$", unit, re.MULTILINE)[1])  # type: ignore[index]
    host_paths = [layout.data_dir(settings), settings.backup_host_dir, host_backup.textfile_path(settings)]
    argv = [str(under(root, a)) if a in host_paths else a for a in argv]
    under(root, settings.backup_textfile_dir).mkdir(parents=True, exist_ok=True)
    env["PYTHONPATH"] = str(under(root, env["PYTHONPATH"]))
    done = subprocess.run(
        argv, env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"backup unit command failed: {done.stderr}"


def install_gateway(root: Path, settings: Settings, build: Path) -> None:
    """The built gateway where the rendered unit looks for it: hostGatewayExec -> the build's Node,
    the folder hostGatewayScript lies in (minus the build's own entry path) -> the build's app tree."""
    node = under(root, settings.host_gateway_exec)
    node.parent.mkdir(parents=True, exist_ok=True)
    node.symlink_to(build / "node")
    entry = "/" + str(ENTRY.relative_to("app"))
    script = settings.host_gateway_script
    assert script.endswith(entry), f"hostGatewayScript {script} does not end in the gateway's entry {entry}"
    app = under(root, script.removesuffix(entry))
    app.parent.mkdir(parents=True, exist_ok=True)
    app.symlink_to(build / "app")


@dataclasses.dataclass(frozen=True)
class UnitRun:
    """What systemd would run for the rendered gateway unit, localized under the root."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path
    log: Path
    admin_password: str
    port: int


def env_file(text: str) -> dict[str, str]:
    """KEY=VALUE lines of an EnvironmentFile (comments and blank lines skipped)."""
    return dict(re.findall(r"^([A-Za-z_]\w*)=(.*)$", text, re.MULTILINE))


def gateway_unit_run(root: Path, settings: Settings, port: int) -> UnitRun:
    """The rendered friday-gateway.service as systemd would start it: ExecStart with every absolute path
    under root, Environment= (SECUREYEOMAN_PORT: `port`), EnvironmentFile, WorkingDirectory, and the
    StandardOutput=append: file; HOME as systemd sets it for User= (the user's home, under root)."""
    unit = parse_unit(artefacts(settings)[f"{host_files.PREFIX}systemd/{layout.UNIT}"])["Service"]
    [exec_start] = unit["ExecStart"]
    argv = [str(under(root, a)) if a.startswith("/") else a for a in shlex.split(exec_start)]
    env = dict(pair.split("=", 1) for line in unit["Environment"] for pair in shlex.split(line))
    assert "SECUREYEOMAN_PORT" in env, f"the rendered unit sets no SECUREYEOMAN_PORT: {env}"
    env["SECUREYEOMAN_PORT"] = str(port)
    [env_path] = unit["EnvironmentFile"]
    secrets_env = env_file(under(root, env_path).read_text())
    [output] = unit["StandardOutput"]
    assert output.startswith("append:"), f"StandardOutput={output}: this run needs the file log target"
    [cwd] = unit["WorkingDirectory"]
    return UnitRun(
        argv=argv,
        env={"PATH": "/usr/bin:/bin", "HOME": str(under(root, "/nonexistent")), **env, **secrets_env},
        cwd=under(root, cwd),
        log=under(root, output.removeprefix("append:")),
        admin_password=secrets_env["SECUREYEOMAN_ADMIN_PASSWORD"],
        port=port,
    )


def with_metrics_token(stack: str) -> Settings:
    """The stack's settings as deployed with its metricsToken secret set (the 0.1.0 gateway needs it)."""
    raw = read_stack_file(stack_file(stack), stack)
    return validate(dataclasses.replace(raw, secret_keys=raw.secret_keys | {METRICS_TOKEN}))


def rendered_prometheus(root: Path, auth_port: int, prom_port: int, node_port: int) -> list[str]:
    """The stack's rendered BARE-METAL Prometheus config (host/prometheus/), localized; returns the
    command line (the container's rendered flags, pointed into root)."""
    settings = with_metrics_token(STACK)
    out = root / "render"
    render.write(settings, out)
    host = host_prometheus.host_addresses(settings, build_stack(settings))
    addresses = {
        host[f"{metrics_auth.NAME}:{settings.metrics_auth_port}"]: f"127.0.0.1:{auth_port}",
        host[f"{endpoints.PROMETHEUS}:{endpoints.PROMETHEUS_PORT}"]: f"127.0.0.1:{prom_port}",
        f"{host_prometheus.LOOPBACK}:{host_prometheus.NODE_EXPORTER_PORT}": f"127.0.0.1:{node_port}",
    }
    source = out / host_prometheus.PREFIX / host_prometheus.DIR
    config = localize.prometheus_dir(out, under(root, "/etc/prometheus"), addresses, source=source)
    data = under(root, "/var/lib/prometheus/data")
    return [binary("prometheus"), *localize.prometheus_command(out, config, data, prom_port)]


def metrics_auth_unit(root: Path, gateway_url: str, port: int, token: str) -> tuple[list[str], dict[str, str]]:
    """The rendered host metrics-auth unit: its ExecStart on the rendered Caddyfile (localized: listen
    port, the gateway as upstream) and its EnvironmentFile as an operator fills it in."""
    files = artefacts(with_metrics_token(STACK))
    unit = files[f"host/systemd/{host_metrics_auth.UNIT}"]
    argv = shlex.split(re.search(r"^ExecStart=(.*)$", unit, re.MULTILINE)[1])  # type: ignore[index]
    caddyfile = under(root, host_metrics_auth.CONFIG_PATH)
    caddyfile.write_text(
        localize.metrics_auth_caddyfile(
            files["host/metrics-auth/Caddyfile"], f"127.0.0.1:{port}", gateway_url.removeprefix("http://")
        )
    )
    argv = [binary("caddy"), *localize.replace_option(argv, "--config", str(caddyfile))[1:]]
    env_file = under(root, host_metrics_auth.ENV_PATH)
    env_file.write_text(files["host/env/metrics-auth.env.example"].replace(f"<secret:{METRICS_TOKEN}>", token))
    env_file.chmod(0o600)
    key = dict(re.findall(r"^(\w+)=(.*)$", env_file.read_text(), re.MULTILINE))
    return argv, {**localize.metrics_auth_env(root / "metrics-auth", token), **key}


def node_exporter(root: Path, settings: Settings, port: int) -> list[str]:
    """Debian's node-exporter with the RENDERED ARGS (host/default/prometheus-node-exporter): the
    textfile folder moved under root, the listen port a free one."""
    text = artefacts(settings)[host_prometheus.PREFIX + host_prometheus.NODE_EXPORTER_DEFAULTS]
    args = shlex.split(re.search(r'^ARGS="(.*)"$', text, re.MULTILINE)[1])  # type: ignore[index]
    args = localize.replace_flag(args, "--collector.textfile.directory", str(under(root, settings.backup_textfile_dir)))
    args = localize.replace_flag(args, "--web.listen-address", f"127.0.0.1:{port}")
    return [binary("prometheus-node-exporter", "node_exporter"), *args]


def start_gateway(run: UnitRun) -> subprocess.Popen[bytes]:
    """The unit's command, its stdout appended to the log file (StandardOutput=append:), stderr too
    (StandardError=inherit)."""
    with run.log.open("ab") as log:
        return subprocess.Popen(run.argv, cwd=run.cwd, env=run.env, stdout=log, stderr=subprocess.STDOUT)


def main(argv: list[str]) -> int:
    try:
        build = build_dir()
    except GatewayUnavailableError as err:
        message = f"tests/infra not run: the real gateway is not available here: {err} (docs/real-gateway.md)"
        print(message, file=sys.stderr, flush=True)
        return 1 if os.environ.get("CI") == "true" else 0
    settings = load_stack(STACK)
    root = Path(tempfile.mkdtemp(prefix="friday-host-"))
    root.chmod(0o755)
    try:
        gateway_port = free_port()
        lay_out(root, settings, gateway_port)
        install_gateway(root, settings, build)
        run = gateway_unit_run(root, settings, gateway_port)
        proc = start_gateway(run)
        gw = RealGateway(proc, f"http://127.0.0.1:{run.port}", run.admin_password, run.log, run.cwd)
        try:
            gw.wait_healthy()
            # metricsToken as an operator makes it: an admin API key, created through the API.
            token = under(root, TOKEN_PATH)
            token.parent.mkdir(parents=True, exist_ok=True)
            token.write_text(gw.create_api_key("admin", name="metrics-auth"))
            token.chmod(0o600)
            return run_suite(root, settings, gw.url, token, argv)
        finally:
            gw.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run_suite(root: Path, settings: Settings, gateway_url: str, token: Path, argv: list[str]) -> int:
    run_backup_unit(root, settings)
    prom_port, node_port, auth_port = free_port(), free_port(), free_port()
    prom_argv = rendered_prometheus(root, auth_port, prom_port, node_port)
    auth_argv, auth_env = metrics_auth_unit(root, gateway_url, auth_port, token.read_text())
    prom_log, node_log, auth_log = (root / "prometheus.log", root / "node-exporter.log", root / "metrics-auth.log")
    with (
        process(auth_argv, auth_log, env=auth_env),
        process(node_exporter(root, settings, node_port), node_log),
        process(prom_argv, prom_log),
    ):
        prometheus_url = f"http://127.0.0.1:{prom_port}"
        wait_for(
            "Prometheus ready",
            lambda: http_ok(f"{prometheus_url}{endpoints.READY_PATH}"),
            START_TIMEOUT_S,
            lambda: log_tail(prom_log),
            poll=0.3,
        )
        outputs = root / "stack-outputs.json"
        # The shape of `pulumi stack output --json` (keys the program exports).
        outputs.write_text(json.dumps({"gatewayUrl": gateway_url, "prometheusUrl": prometheus_url}))
        suite = [
            sys.executable,
            "-m",
            "pytest",
            "tests/infra",
            "--hosts=local://",
            "--friday-mode=baremetal",
            f"--friday-stack={STACK}",
            f"--friday-root={root}",
            f"--friday-outputs={outputs}",
            f"--friday-metrics-token-file={token}",
            "-p",
            "no:cacheprovider",
            *argv,
        ]
        print("$ " + " ".join(suite), flush=True)
        return subprocess.run(suite, cwd=REPO_ROOT, check=False, env={**os.environ}, timeout=SUITE_TIMEOUT_S).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
