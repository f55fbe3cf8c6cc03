"""Metrics leave the host: two stacks' RENDERED Prometheus configs write to one receiver on 127.0.0.1.

Two stacks (environments `east` and `west`, each with one basic-auth remote-write target: a second
Prometheus started with `--web.enable-remote-write-receiver` behind a web config that demands a
password) are rendered from their settings; their Prometheus processes (Debian's, localized:
1 s intervals, host addresses) scrape the REAL gateway 0.1.0 through the rendered metrics-auth
proxy with an admin key made through its API, and themselves. Each stack's credential reaches its
Prometheus as the file the rendered `password_file` names, as a target delivers it. Then:

- the receiver holds the gateway's series of both stacks, told apart by `environment` (and `stack`);
- every Prometheus query of the dashboards, pointed at the receiver with one environment selected,
  returns data exactly where the same query does on that stack's own Prometheus, only that
  environment's series, and nothing for an environment that does not exist;
- a third stack (`south`) whose credential file holds a wrong password gets nothing in, and its
  Prometheus counts the samples as failed, and the expression of RemoteWriteFailing (loaded by every
  stack with a target) is true there for that target.
"""

from __future__ import annotations

import contextlib
import functools
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from infra import render
from infra.alerting import rules
from infra.dashboards import scope
from infra.dashboards.datasources import PROMETHEUS
from infra.dashboards.files import DASHBOARDS
from infra.dashboards.model import substitute
from infra.monitoring import endpoints
from infra.monitoring import remote_write as prometheus_remote_write
from infra.settings import Settings
from infra.settings.remote_write import CREDENTIALS_KEY
from infra.stack import metrics_auth
from testbed import localize
from testbed.processes import binary, free_port, http_ok, log_tail, process, wait_for
from testbed.settings import settings_of
from tests.support.real_gateway import RealGateway

pytestmark = pytest.mark.live

START_TIMEOUT_S = 30.0
ARRIVAL_TIMEOUT_S = 60.0
ENVIRONMENTS = ("east", "west")
# A third stack whose credential file holds a wrong password: the receiver must refuse its samples.
WRONG = "south"
USER = "fleet"
PASSWORDS = {"east": "east-remote-write-password", "west": "west-remote-write-password", WRONG: "south-password"}
GATEWAY_INSTANCE_PORT = 18789


@dataclass
class Prom:
    url: str
    log: Path

    def query(self, expr: str) -> list[dict[str, Any]]:
        r = requests.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=10)
        body = r.json()
        assert r.status_code == 200 and body["status"] == "success", f"{expr}: {body}"
        result: list[dict[str, Any]] = body["data"]["result"]
        return result


@dataclass
class Fleet:
    receiver: Prom
    stacks: dict[str, Prom]
    settings: dict[str, Settings]
    receiver_url: str

    def logs(self) -> str:
        return "\n".join(log_tail(p.log) for p in (self.receiver, *self.stacks.values()))


def stack_settings(environment: str, receiver_url: str) -> Settings:
    target = {"name": "fleet", "url": receiver_url, "auth": "basic", "username": USER}
    return settings_of(
        {"environment": environment, "remoteWrite": [target]},
        frozenset({"metricsToken", CREDENTIALS_KEY}),
        stack=f"stack-{environment}",
    )


def receiver_web_config(path: Path) -> Path:
    """The receiver demands basic auth: one user per stack, bcrypt hashes made by Caddy."""
    users = {}
    for environment, password in PASSWORDS.items():
        done = subprocess.run(
            [binary("caddy"), "hash-password", "--plaintext", password],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        users[f"{USER}-{environment}"] = done.stdout.strip().splitlines()[-1]
    path.write_text(yaml.safe_dump({"basic_auth_users": users}))
    return path


@contextlib.contextmanager
def running_fleet(tmp: Path, gw: RealGateway, key: str) -> Iterator[Fleet]:
    receiver_port, auth_port = free_port(), free_port()
    receiver_url = f"http://127.0.0.1:{receiver_port}/api/v1/write"
    (tmp / "receiver.yml").write_text("global: {}\n")
    receiver_cmd = [
        binary("prometheus"),
        f"--config.file={tmp / 'receiver.yml'}",
        f"--storage.tsdb.path={tmp / 'receiver-data'}",
        f"--web.listen-address=127.0.0.1:{receiver_port}",
        f"--web.config.file={receiver_web_config(tmp / 'receiver-web.yml')}",
        "--web.enable-remote-write-receiver",
    ]
    settings = {env: stack_settings(env, receiver_url) for env in (*ENVIRONMENTS, WRONG)}
    commands: dict[str, list[str]] = {}
    ports = {env: free_port() for env in settings}
    for env, s in settings.items():
        out = tmp / env / "render"
        render.write(s, out)
        addresses = {
            f"{metrics_auth.NAME}:{s.metrics_auth_port}": f"127.0.0.1:{auth_port}",
            f"{endpoints.PROMETHEUS}:{endpoints.PROMETHEUS_PORT}": f"127.0.0.1:{ports[env]}",
        }
        config_file = localize.prometheus_dir(out, tmp / env / "prometheus", addresses)
        # The per-stack user on the shared receiver (a real fleet store names a tenant the same way).
        config = yaml.safe_load(config_file.read_text())
        [write] = config["remote_write"]
        write["basic_auth"]["username"] = f"{USER}-{env}"
        config_file.write_text(yaml.safe_dump(config))
        # The credential as the target delivers it: the file the rendered config names, 0400.
        [target] = s.remote_write
        credential = config_file.parent / prometheus_remote_write.credential_file(target)
        credential.parent.mkdir(parents=True, exist_ok=True)
        credential.write_text(PASSWORDS[env] if env != WRONG else "not-the-password")
        credential.chmod(0o400)
        commands[env] = [
            binary("prometheus"),
            *localize.prometheus_command(out, config_file, tmp / env / "data", ports[env]),
        ]
    # One metrics-auth proxy as rendered (both stacks scrape the same real gateway through it).
    out = tmp / ENVIRONMENTS[0] / "render"
    rendered = localize.rendered_files(out, metrics_auth.NAME, metrics_auth.CONFIG_DIR) / "Caddyfile"
    caddyfile = tmp / "metrics-auth.Caddyfile"
    caddyfile.write_text(
        localize.metrics_auth_caddyfile(rendered.read_text(), f"127.0.0.1:{auth_port}", f"127.0.0.1:{gw.port}")
    )
    auth_cmd = localize.metrics_auth_command(out, caddyfile)
    auth_env = localize.metrics_auth_env(tmp / "metrics-auth", key)
    logs = {name: tmp / f"{name}.log" for name in ("receiver", "metrics-auth", *settings)}
    with (
        process(receiver_cmd, logs["receiver"]),
        process(auth_cmd, logs["metrics-auth"], env=auth_env),
        process(commands["east"], logs["east"]),
        process(commands["west"], logs["west"]),
        process(commands[WRONG], logs[WRONG]),
    ):
        fleet = Fleet(
            Prom(f"http://127.0.0.1:{receiver_port}", logs["receiver"]),
            {env: Prom(f"http://127.0.0.1:{ports[env]}", logs[env]) for env in settings},
            settings,
            receiver_url,
        )

        def receiver_ready() -> bool:
            try:
                r = requests.get(f"{fleet.receiver.url}/-/ready", auth=(f"{USER}-east", PASSWORDS["east"]), timeout=5)
            except requests.ConnectionError:
                return False
            return r.status_code == 200

        wait_for("the receiver ready", receiver_ready, START_TIMEOUT_S, fleet.logs)
        for env, prom in fleet.stacks.items():
            wait_for(
                f"{env} Prometheus ready",
                functools.partial(http_ok, f"{prom.url}/-/ready"),
                START_TIMEOUT_S,
                fleet.logs,
            )
        yield fleet


class AuthedReceiver(Prom):
    """Queries to the receiver carry one stack's credential (its web config demands one)."""

    def query(self, expr: str) -> list[dict[str, Any]]:
        r = requests.get(
            f"{self.url}/api/v1/query",
            params={"query": expr},
            auth=(f"{USER}-east", PASSWORDS["east"]),
            timeout=10,
        )
        body = r.json()
        assert r.status_code == 200 and body["status"] == "success", f"{expr}: {body}"
        result: list[dict[str, Any]] = body["data"]["result"]
        return result


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    tmp = tmp_path_factory.mktemp("remote-write")
    with RealGateway.start(tmp / "gateway") as gw:
        key = gw.create_api_key("admin", name="metrics-auth")
        with running_fleet(tmp, gw, key) as running:
            running.receiver = AuthedReceiver(running.receiver.url, running.receiver.log)

            def both_arrived() -> bool:
                found = running.receiver.query('up{job="gateway"} == 1')
                return {r["metric"].get("environment") for r in found} == set(ENVIRONMENTS)

            wait_for(
                "the gateway's series of both stacks at the receiver", both_arrived, ARRIVAL_TIMEOUT_S, running.logs
            )
            yield running


def variables(environment: str) -> dict[str, str]:
    return {
        "environment": environment,
        "instance": f"gateway:{GATEWAY_INSTANCE_PORT}",
        "__rate_interval": "1m",
        **scope.EVERY_STACK,
    }


def prometheus_queries() -> list[tuple[str, str, str]]:
    return [(d.uid, p.title, q.expr) for d in DASHBOARDS.values() for p, q in d.queries() if q.datasource is PROMETHEUS]


def test_the_receiver_refuses_a_write_without_the_credential(fleet: Fleet) -> None:
    r = requests.post(fleet.receiver_url, data=b"", timeout=10)
    assert r.status_code == 401


def test_the_receiver_holds_the_gateways_series_of_both_stacks(fleet: Fleet) -> None:
    series = fleet.receiver.query('friday_memory_used_mb{job="gateway"}')
    by_environment = {r["metric"]["environment"]: r["metric"] for r in series}
    assert set(by_environment) == set(ENVIRONMENTS)
    for env, labels in by_environment.items():
        # The external label `stack` came along; the target labels are the stack's own.
        assert labels["stack"] == f"stack-{env}"
        assert labels["instance"] == f"gateway:{GATEWAY_INSTANCE_PORT}" and labels["service"] == "gateway"
    # Nothing was sent without the environment label.
    assert not fleet.receiver.query('{__name__=~".+", environment=""}')
    # The stacks' own Prometheus sent without failures.
    for env in ENVIRONMENTS:
        prom = fleet.stacks[env]
        [failed] = prom.query("sum(prometheus_remote_storage_samples_failed_total)")
        assert float(failed["value"][1]) == 0, env


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_dashboards_at_the_receiver_select_each_environment(fleet: Fleet, environment: str) -> None:
    own = fleet.stacks[environment]

    def with_data(prom: Prom) -> set[tuple[str, str, str]]:
        return {q for q in prometheus_queries() if prom.query(substitute(q[2], variables(environment)))}

    def same() -> bool:
        return with_data(fleet.receiver) == with_data(own)

    # Remote write lags the stack by a send deadline at most; rates need a few samples there too.
    wait_for(
        f"the dashboards at the receiver to match {environment}'s own", same, ARRIVAL_TIMEOUT_S, fleet.logs, poll=2
    )
    found = with_data(fleet.receiver)
    assert len(found) > 20, f"too few dashboard queries with data: {sorted(found)}"
    for _, title, expr in prometheus_queries():
        for sample in fleet.receiver.query(substitute(expr, variables(environment))):
            assert sample["metric"].get("environment", environment) == environment, (title, sample["metric"])
        assert not fleet.receiver.query(substitute(expr, variables("elsewhere"))), title


def test_the_environment_variable_offers_both_stacks(fleet: Fleet) -> None:
    r = requests.get(
        f"{fleet.receiver.url}/api/v1/label/environment/values",
        params={"match[]": 'up{job="gateway"}'},
        auth=(f"{USER}-east", PASSWORDS["east"]),
        timeout=10,
    )
    assert sorted(r.json()["data"]) == sorted(ENVIRONMENTS)


def test_a_wrong_credential_is_refused_and_counted_as_failed(fleet: Fleet) -> None:
    wrong = fleet.stacks[WRONG]

    def failed() -> float:
        result = wrong.query("sum(prometheus_remote_storage_samples_failed_total)")
        return float(result[0]["value"][1]) if result else 0.0

    wait_for(f"{WRONG}'s samples to fail at the receiver", lambda: failed() > 0, ARRIVAL_TIMEOUT_S, fleet.logs)
    assert not fleet.receiver.query(f'{{__name__=~".+", environment="{WRONG}"}}')


def test_the_remote_write_alert_is_loaded_and_its_expression_true_for_the_wrong_credential(fleet: Fleet) -> None:
    """RemoteWriteFailing (alerts/remote-write.yml) is among each stack's rules (they have a target), and
    its expression, evaluated by the third stack's own Prometheus, is true for its refused target."""
    [rule] = rules.REMOTE_WRITE_RULES.rules
    for env, prom in fleet.stacks.items():
        r = requests.get(f"{prom.url}/api/v1/rules", params={"type": "alert"}, timeout=10)
        names = {x["name"] for g in r.json()["data"]["groups"] for x in g["rules"]}
        assert rule.name in names, env
    wrong = fleet.stacks[WRONG]

    def firing_targets() -> set[str]:
        return {r["metric"]["remote_name"] for r in wrong.query(rule.expr)}

    wait_for(
        f"{rule.name}'s expression true for {WRONG}",
        lambda: firing_targets() == {"fleet"},
        ARRIVAL_TIMEOUT_S,
        fleet.logs,
    )
