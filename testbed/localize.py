"""The one transformation tests apply to RENDERED configs and commands so they run on 127.0.0.1.

Used by the live end-to-end test (tests/live), the live dashboard test and the local host
suite run (tests/support/local_host.py). Everything else in the rendered files is used as
rendered. What changes, and why:

prometheus.yml
  - each scrape target `service:port` becomes the `127.0.0.1:<port>` given for it (no Docker
    network here); jobs of services that do not run in the test (Grafana: no binary on this
    machine) are dropped, and so are Alertmanagers that do not run;
  - global scrape_interval and evaluation_interval, and a job's own scrape_interval, become
    INTERVAL (seconds instead of 15s, so the tests take seconds); a job's own scrape_timeout
    becomes INTERVAL too (Prometheus refuses a timeout above the interval).
metrics-auth Caddyfile (files/metrics-auth/..., the proxy that adds the gateway's X-API-Key)
  - its listen address becomes 127.0.0.1:<free port> and its upstream the gateway's address;
    the key stays where the rendered file has it: in the environment variable it names.
rules/*.yml (copies)
  - a group's own `interval` (the dashboards' recording rules: 1m) becomes INTERVAL too;
  - the `for` of an alert a test drives may be shortened (see FOR_OVERRIDE); the rule's
    expression, labels and annotations stay as committed.
alertmanager.yml
  - `<secret:KEY>` placeholders are filled with the test receiver's URLs (what the Docker
    target does with the real secrets at deploy time);
  - group_wait / group_interval (root and Watchdog route) become INTERVAL, repeat_interval stays.
prometheus command line (the rendered one, see services/prometheus.json)
  - --config.file, --storage.tsdb.path and --web.listen-address point into the test's folder;
  - RESEND_FLAG is added: Prometheus evaluates its first rules before its notifier has
    discovered Alertmanager, drops those sends, and re-sends firing alerts only every minute
    by default; this makes the Watchdog arrive seconds, not a minute, after start. It does
    not change when a newly firing or resolved alert is sent (immediately, in both cases).
host/ files (bare metal, tests/support/local_host.py; see host_* below)
  - every host folder the settings name (hostDataDir, hostLogDir, backupHostDir,
    backupTextfileDir, /etc/friday) is prefixed with the test's root folder, wherever it
    appears as a whole path (so logrotate rotates the root's gateway.log);
  - the service user and group (`su friday friday` in logrotate, the owner columns of
    tmpfiles.d) become the current user's and group's: the test cannot create a `friday` user
    and logrotate refuses `su` to a user that does not exist. tmpfiles.d keeps its host paths:
    it is applied with `systemd-tmpfiles --root`, which prefixes them itself.
  - the gateway's gateway.yaml: core.dataDir under the root, gateway.port a free port (the unit's
    SECUREYEOMAN_PORT gets the same one: tests/support/local_host.py).
  Everything else (rotation policy, copytruncate, modes) is used as rendered.
backup command line (tasks/backup.json, the resident form Docker runs: `python3 -m friday_backup serve ...`)
  - run by this Python with PYTHONPATH at the rendered copy of the package (the files the
    container receives); --data-dir, --backup-dir and --listen (127.0.0.1, not 0.0.0.0) point
    into the test's folder; interval and retention stay as rendered.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from infra.host import layout
from infra.monitoring import endpoints, web_auth
from infra.settings import Settings
from infra.stack import backup, metrics_auth
from infra.stack.spec import fill_secrets
from infra.yamlio import dump_readable
from testbed.processes import binary

INTERVAL = "1s"
FOR_OVERRIDE = "5s"
RESEND_FLAG = f"--rules.alert.resend-delay={INTERVAL}"


def rendered_files(out: Path, service: str, config_dir: str) -> Path:
    """Where `render` wrote the config folder of a service."""
    return out / "files" / service / config_dir.lstrip("/")


def _rendered(out: Path, name: str) -> dict[str, Any]:
    """services/<name>.json, or for a scheduled task tasks/<name>.json."""
    path = out / f"services/{name}.json"
    doc: dict[str, Any] = json.loads((path if path.exists() else out / f"tasks/{name}.json").read_text())
    return doc


def rendered_command(out: Path, service: str) -> list[str]:
    """A service's command; a scheduled task's resident form (what Docker runs)."""
    doc = _rendered(out, service)
    return list(doc["resident"]["command"] if "resident" in doc else doc["command"])


def rendered_env(out: Path, service: str) -> dict[str, str]:
    env = _rendered(out, service)["env"]
    return {k: v for k, v in env.items() if isinstance(v, str) and not v.startswith("<secret:")}


def replace_flag(command: list[str], flag: str, value: str) -> list[str]:
    """`--flag=old` -> `--flag=value`; the flag must be there exactly once."""
    found = [c for c in command if c.startswith(f"{flag}=")]
    assert len(found) == 1, f"{flag} not in the rendered command {command}"
    return [f"{flag}={value}" if c.startswith(f"{flag}=") else c for c in command]


def replace_option(command: list[str], option: str, value: str) -> list[str]:
    """`--option old` -> `--option value`; the option must be there exactly once."""
    assert command.count(option) == 1, f"{option} not in the rendered command {command}"
    i = command.index(option)
    return [*command[: i + 1], value, *command[i + 2 :]]


def prometheus_config(config: dict[str, Any], addresses: dict[str, str], shorten: bool = True) -> dict[str, Any]:
    """Targets mapped through `addresses` (service:port -> host:port), intervals shortened
    (unless `shorten` is False: the bench's production-like alert latency keeps the rendered ones)."""
    if shorten:
        config["global"]["scrape_interval"] = INTERVAL
        config["global"]["evaluation_interval"] = INTERVAL
    runs_here = []
    for job in config["scrape_configs"]:
        for key in ("scrape_interval", "scrape_timeout") if shorten else ():
            if key in job:
                job[key] = INTERVAL
        targets = [t for static in job["static_configs"] for t in static["targets"]]
        if not all(t in addresses for t in targets):
            continue
        for static in job["static_configs"]:
            static["targets"] = [addresses[t] for t in static["targets"]]
        runs_here.append(job)
    config["scrape_configs"] = runs_here
    for am in config["alerting"]["alertmanagers"]:
        for static in am["static_configs"]:
            static["targets"] = [addresses[t] for t in static["targets"] if t in addresses]
    return config


def prometheus_dir(
    out: Path, dest: Path, addresses: dict[str, str], source: Path | None = None, *, shorten: bool = True
) -> Path:
    """The rendered Prometheus config folder copied to dest and localized; returns prometheus.yml.

    source: another rendered Prometheus folder (the bare-metal host/prometheus/) instead of the container's."""
    shutil.copytree(source or rendered_files(out, endpoints.PROMETHEUS, endpoints.PROMETHEUS_CONFIG_DIR), dest)
    config_file = dest / "prometheus.yml"
    config = prometheus_config(yaml.safe_load(config_file.read_text()), addresses, shorten)
    config_file.write_text(yaml.safe_dump(config))
    for rule_file in sorted((dest / "rules").glob("*.yml")) if shorten else ():
        shorten_group_intervals(rule_file)
    return config_file


def shorten_group_intervals(rule_file: Path) -> None:
    """Groups with their own evaluation interval evaluate every INTERVAL instead."""
    doc = yaml.safe_load(rule_file.read_text())
    groups = [g for g in doc["groups"] if "interval" in g]
    for group in groups:
        group["interval"] = INTERVAL
    if groups:
        rule_file.write_text(dump_readable(doc))


def metrics_auth_caddyfile(text: str, listen: str, upstream: str) -> str:
    """A rendered metrics-auth Caddyfile (container or host/) listening on `listen`, forwarding to `upstream`.

    `listen` is `host:port` or `:port`. A host becomes the site's `bind` address (replacing a rendered
    one); `:port` changes only the port, so a rendered `bind` (the bare-metal proxy's loopback) is
    used as rendered."""
    host, _, port = listen.rpartition(":")
    text, n = re.subn(r"^http://:\d+ \{$", f"http://:{port} {{", text, flags=re.M)
    assert n == 1, "no site address `http://:PORT {` in the rendered metrics-auth Caddyfile"
    if host:
        text, n = re.subn(r"^(\tbind) \S+$", rf"\g<1> {host}", text, flags=re.M)
        if n == 0:
            text = text.replace(f"http://:{port} {{\n", f"http://:{port} {{\n\tbind {host}\n", 1)
    text, n = re.subn(r"^(\s*reverse_proxy )\S+ \{$", rf"\g<1>{upstream} {{", text, flags=re.M)
    assert n == 1, "no reverse_proxy upstream in the rendered metrics-auth Caddyfile"
    return text


def metrics_auth_command(out: Path, config_file: Path) -> list[str]:
    """The rendered proxy command (services/metrics-auth.json) with the config path of the test."""
    cmd = rendered_command(out, metrics_auth.NAME)
    assert cmd[0] == "caddy", cmd
    return [shutil.which("caddy") or "caddy", *replace_option(cmd, "--config", str(config_file))[1:]]


def metrics_auth_env(work: Path, key: str) -> dict[str, str]:
    """The proxy's environment as a target delivers it: the rendered plain variables (Caddy's
    scratch folders, moved into the test's folder) and the key, as the metricsToken secret would."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(work),
        "XDG_DATA_HOME": str(work / "data"),
        "XDG_CONFIG_HOME": str(work / "config"),
        metrics_auth.KEY_ENV: key,
    }


def prometheus_command(out: Path, config_file: Path, data_dir: Path, port: int, shorten: bool = True) -> list[str]:
    cmd = rendered_command(out, endpoints.PROMETHEUS)
    cmd = replace_flag(cmd, "--config.file", str(config_file))
    cmd = replace_flag(cmd, "--storage.tsdb.path", str(data_dir))
    cmd = replace_flag(cmd, "--web.listen-address", f"127.0.0.1:{port}")
    return [*cmd, RESEND_FLAG] if shorten else cmd


def shorten_for(rule_file: Path, alert: str, for_: str = FOR_OVERRIDE) -> str:
    """Rewrite rule_file in place with a shorter `for` on one alert (every tier of that alertname,
    e.g. its warning and critical rules); returns the original `for` (of its last rule)."""
    doc = yaml.safe_load(rule_file.read_text())
    original = None
    for group in doc["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") == alert:
                original = rule["for"]
                rule["for"] = for_
    if original is None:
        raise KeyError(f"{rule_file} has no alert {alert}")
    rule_file.write_text(dump_readable(doc))
    return str(original)


def alertmanager_config(text: str, secret_values: dict[str, str], shorten: bool = True) -> str:
    doc = yaml.safe_load(fill_secrets(text, secret_values))
    if not shorten:
        return dump_readable(doc)
    route = doc["route"]
    route["group_wait"] = INTERVAL
    route["group_interval"] = INTERVAL
    for child in route["routes"]:
        if "group_interval" in child:
            child["group_interval"] = INTERVAL
            child["repeat_interval"] = INTERVAL
    return dump_readable(doc)


def alertmanager_command(
    out: Path, config_file: Path, data_dir: Path, port: int, web_config: Path | None = None
) -> list[str]:
    cmd = rendered_command(out, endpoints.ALERTMANAGER)
    assert "--cluster.listen-address=" in cmd
    cmd = replace_flag(cmd, "--config.file", str(config_file))
    if web_config is not None:
        cmd = replace_flag(cmd, "--web.config.file", str(web_config))
    cmd = replace_flag(cmd, "--storage.path", str(data_dir))
    return replace_flag(cmd, "--web.listen-address", f"127.0.0.1:{port}")


def backup_command(out: Path, data_dir: Path, backup_dir: Path, port: int) -> tuple[list[str], dict[str, str]]:
    """argv and environment of the rendered backup service, run here."""
    cmd = rendered_command(out, backup.NAME)
    assert cmd[:3] == ["python3", "-m", backup.PACKAGE], cmd
    cmd = [sys.executable, *cmd[1:]]
    cmd = replace_option(cmd, "--data-dir", str(data_dir))
    cmd = replace_option(cmd, "--backup-dir", str(backup_dir))
    cmd = replace_option(cmd, "--listen", f"127.0.0.1:{port}")
    env = rendered_env(out, backup.NAME)
    env["PYTHONPATH"] = str(rendered_files(out, backup.NAME, backup.CONFIG_DIR))
    return cmd, {"PATH": "/usr/bin:/bin", **env}


def host_folders(settings: Settings) -> list[str]:
    """The host folders a bare-metal install uses, as the settings name them."""
    return [
        layout.data_dir(settings),
        settings.host_log_dir,
        settings.backup_host_dir,
        settings.backup_textfile_dir,
        layout.ETC_DIR,
    ]


def current_user() -> tuple[str, str]:
    return pwd.getpwuid(os.geteuid()).pw_name, grp.getgrgid(os.getegid()).gr_name


def host_paths_under(text: str, root: Path, settings: Settings) -> str:
    """Each host folder of the settings, where it starts a whole path in text, prefixed with root."""
    folders = sorted(host_folders(settings), key=len, reverse=True)
    pattern = re.compile(r"(?<![\w./-])(" + "|".join(map(re.escape, folders)) + r")(?=[/\s]|$)", re.M)
    return pattern.sub(lambda m: f"{str(root).rstrip('/')}{m.group(1)}", text)


def host_logrotate(text: str, root: Path, settings: Settings) -> str:
    """The rendered host/logrotate/friday for a root folder, rotating as the current user."""
    user, group = layout.service_user(settings)
    me, my_group = current_user()
    text, n = re.subn(rf"^(\s*)su {re.escape(user)} {re.escape(group)}$", rf"\1su {me} {my_group}", text, flags=re.M)
    assert n == 1, f"no `su {user} {group}` in the rendered logrotate file"
    return host_paths_under(text, root, settings)


def host_tmpfiles(text: str, settings: Settings) -> str:
    """The rendered host/tmpfiles/friday.conf owned by the current user (paths stay: --root adds root)."""
    user, group = layout.service_user(settings)
    me, my_group = current_user()
    out = []
    for line in text.splitlines(keepends=True):
        fields = line.split()
        if not fields or line.startswith("#"):
            out.append(line)
            continue
        assert fields[3:5] == [user, group], f"unexpected owner in tmpfiles line {line!r}"
        out.append(" ".join([*fields[:3], me, my_group, *fields[5:]]) + "\n")
    return "".join(out)


def host_gateway_config(text: str, root: Path, port: int) -> str:
    """The rendered host/gateway/gateway.yaml with its core.dataDir under root and gateway.port a free
    one (the rest as rendered)."""
    config = yaml.safe_load(text)
    config["core"]["dataDir"] = f"{str(root).rstrip('/')}{config['core']['dataDir']}"
    assert "port" in config["gateway"], "the rendered gateway.yaml names no gateway.port"
    config["gateway"]["port"] = port
    return yaml.safe_dump(config, sort_keys=False)


def bcrypt_hash(password: str) -> str:
    """A bcrypt hash of password, made by Caddy's `hash-password` (Debian's caddy, which the live
    tests run anyway); at deploy pulumi-random's RandomPassword makes it (`bcryptHash`)."""
    done = subprocess.run(
        [binary("caddy"), "hash-password", "--algorithm", "bcrypt", "--plaintext", password],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    hashed = done.stdout.strip().splitlines()[-1]
    assert hashed.startswith("$2"), done.stdout
    return hashed


def alertmanager_web_config(out: Path, dest: Path, password: str) -> Path:
    """The rendered web config with the password's bcrypt hash filled in (0400, as delivered)."""
    rendered = rendered_files(out, endpoints.ALERTMANAGER, endpoints.ALERTMANAGER_CONFIG_DIR) / web_auth.WEB_CONFIG_NAME
    dest.write_text(fill_secrets(rendered.read_text(), {web_auth.HASH_KEY: bcrypt_hash(password)}))
    dest.chmod(0o400)
    return dest


def prometheus_password_files(config_file: Path, password: str) -> None:
    """Write Alertmanager's password beside the localized prometheus.yml and point every
    `password_file` of the rendered config (alerting, scrapes) at it."""
    folder = config_file.parent
    config = yaml.safe_load(config_file.read_text())
    rendered_prefix = f"{endpoints.PROMETHEUS_CONFIG_DIR}/"
    blocks = [am.get("basic_auth") for am in config["alerting"]["alertmanagers"]]
    blocks += [job.get("basic_auth") for job in config["scrape_configs"]]
    for block in blocks:
        if block is None:
            continue
        path = folder / block["password_file"].removeprefix(rendered_prefix)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(password)
        path.chmod(0o400)
        block["password_file"] = str(path)
    config_file.write_text(yaml.safe_dump(config))
