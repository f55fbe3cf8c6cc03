"""The rendered dev stack on a real engine: the real gateway 0.1.0, stand-in images for the rest
(docs/engine-test.md).

The stack was created from the Docker target's plan in the provider's order (tests/support/engine/stack.py),
with the scrape credential an admin API key made through the running gateway's API; these tests look at
what runs. The last tests restore a backup onto a second gateway and recreate the gateway container.
"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any

import docker

from infra.backup.core import KNOWN_DATABASES
from infra.monitoring import web_auth
from infra.settings.base import duration_seconds
from infra.stack import backup, blackbox, gateway, metrics_auth
from infra.stack.prometheus import scrape_targets
from infra.targets.docker_map import SECURITY_OPTS
from infra.targets.docker_plan import OneShot, ServiceContainer, VolumeMount
from tests.support.engine.checks import capability_mask, get, poll, proc_status, run_in, session
from tests.support.engine.stack import RunningStack, container_url, runner


def row_count(database: str, table: str) -> tuple[str, ...]:
    """A command (for the backup container's Python) printing the rows of a table of a database copy."""
    query = f"select count(*) from {table}"
    return ("python3", "-c", f"import sqlite3; print(sqlite3.connect('{database}').execute('{query}').fetchone()[0])")


def audit_verify(url: str, key: str) -> dict[str, Any]:
    """POST /api/v1/audit/verify with an admin API key: {valid, entriesChecked[, error]}."""
    answer = session().post(f"{url}/api/v1/audit/verify", headers={"X-API-Key": key}, timeout=30)
    assert answer.status_code == 200, (answer.status_code, answer.text)
    verdict: dict[str, Any] = answer.json()
    return verdict


def gateway_metric(url: str, key: str, name: str) -> float:
    answer = get(f"{url}{gateway.METRICS_PATH}", headers={"X-API-Key": key})
    assert answer.status_code == 200, (answer.status_code, answer.text)
    [value] = [line.split()[-1] for line in answer.text.splitlines() if line.split(" ")[0] == name]
    return float(value)


def test_every_running_service_is_healthy(client: docker.DockerClient, dev_stack: RunningStack) -> None:
    assert dev_stack.skipped == {"grafana", "loki", "alloy"}
    running = {s.name for s in dev_stack.spec.long_running()} - dev_stack.skipped
    assert set(dev_stack.containers) == running
    for service, container_id in dev_stack.containers.items():
        state = client.api.inspect_container(container_id)["State"]
        assert state["Health"]["Status"] == "healthy", service


def test_prometheus_scrapes_every_running_service_by_its_name(dev_stack: RunningStack) -> None:
    expected = {t.job: t for t in scrape_targets(dev_stack.spec.long_running())}
    probes = {t.job for t in blackbox.probe_targets(dev_stack.settings)}
    running = {job for job in expected if job not in dev_stack.skipped} | probes
    assert {"gateway", "prometheus", "alertmanager", "backup"} <= running
    url = f"http://127.0.0.1:{dev_stack.port('prometheus')}/api/v1/targets"

    def all_up() -> list[dict[str, object]] | None:
        active = get(url).json()["data"]["activeTargets"]
        up = {t["labels"]["job"] for t in active if t["health"] == "up"}
        return active if running <= up else None

    active = poll("every running service scraped", all_up, timeout_s=60)
    by_job = {str(t["labels"]["job"]): t for t in active}  # type: ignore[index]
    assert set(by_job) == set(expected) | probes, "Prometheus scrapes exactly the declared targets and probes"
    for job, target in expected.items():
        # The address is the service name on the stack network (its alias), never an IP.
        assert by_job[job]["scrapeUrl"] == f"http://{target.address}{target.metrics_path}", job
        if job in dev_stack.skipped:
            assert by_job[job]["health"] != "up", f"{job} is not running here"


def test_gateway_metrics_need_the_scrape_credential(dev_stack: RunningStack) -> None:
    """The real gateway demands an admin credential on /metrics: the API key made through its API at
    start (the stack's metricsToken) in X-API-Key, never as Bearer (metrics-auth adds it to
    Prometheus's scrapes; the scrape above succeeded through it)."""
    base = f"http://127.0.0.1:{dev_stack.port('gateway')}"
    assert get(f"{base}{gateway.METRICS_PATH}").status_code == 401
    key = dev_stack.secrets["metricsToken"]
    assert get(f"{base}{gateway.METRICS_PATH}", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    answer = get(f"{base}{gateway.METRICS_PATH}", headers={"X-API-Key": key})
    assert answer.status_code == 200 and "# TYPE friday_" in answer.text


def test_prometheus_scrapes_the_gateway_through_metrics_auth(dev_stack: RunningStack) -> None:
    url = f"http://127.0.0.1:{dev_stack.port('prometheus')}/api/v1/query"

    def gateway_up() -> list[dict[str, Any]] | None:
        result: list[dict[str, Any]] = get(url, params={"query": f'up{{job="{gateway.NAME}"}}'}).json()["data"][
            "result"
        ]
        return result if [r["value"][1] for r in result] == ["1"] else None

    poll("up == 1 for the gateway job (scraped at metrics-auth)", gateway_up, timeout_s=60)
    # The gateway's own families came with it (what only the real gateway's /metrics has).
    chain = get(url, params={"query": f'friday_audit_chain_valid{{job="{gateway.NAME}"}}'}).json()["data"]["result"]
    assert [r["value"][1] for r in chain] == ["1"], chain


# Evaluation cycles the idle gateway is watched for.
IDLE_CYCLES = 4


def test_only_watchdog_fires_on_an_idle_gateway(dev_stack: RunningStack) -> None:
    """Once Prometheus scrapes the gateway, over several evaluation cycles: the only alert firing is
    Watchdog (and it reaches Alertmanager), and no alert is even pending unless it is about a service
    the engine leaves out (its target is down by design). Read back from Prometheus's ALERTS series, so
    the time the stack was already up counts. A failed gateway scrape in the first seconds of this young
    Prometheus makes the burn-rate alerts fire unless they are guarded for a Prometheus younger than
    their long window (issue 19): this test then fails, as it did with the stack started in waves."""
    prometheus_url = f"http://127.0.0.1:{dev_stack.port('prometheus')}/api/v1"
    alertmanager_url = f"http://127.0.0.1:{dev_stack.port('alertmanager')}/api/v2/alerts"

    def watchdog() -> dict[str, Any] | None:
        credential = (web_auth.USER, dev_stack.secrets[web_auth.PASSWORD_KEY])
        alerts: list[dict[str, Any]] = get(alertmanager_url, auth=credential).json()
        return next((a for a in alerts if a["labels"].get("alertname") == "Watchdog"), None)

    alert = poll("Watchdog in Alertmanager", watchdog, timeout_s=90, every_s=2)
    assert alert["labels"]["stack"] == dev_stack.settings.stack
    cycle = duration_seconds(dev_stack.settings.evaluation_interval)

    def since_up() -> float | None:
        """When the last of the stack's scrape jobs came up (after its last failed scrape), if all are up
        now. Every job, not just the gateway's: the probes go through probe-auth, which the suite
        creates after the gateway (with the key made in it), so they may come up a little later."""
        now = time.time()
        params = {"query": "up", "start": now - 3600, "end": now, "step": "1"}
        result = get(f"{prometheus_url}/query_range", params=params).json()["data"]["result"]
        ups = []
        for series in result:
            if series["metric"].get("job") in dev_stack.skipped:
                continue
            values = [(float(t), v) for t, v in series["values"]]
            if values[-1][1] != "1":
                return None
            down = [t for t, v in values if v != "1"]
            ups.append(min(t for t, v in values if v == "1" and (not down or t > max(down))))
        return max(ups) if any(s["metric"].get("job") == gateway.NAME for s in result) else None

    came_up = poll("every scrape job up", since_up, timeout_s=90)
    # The window starts one cycle after that (alerts of the time before resolve at the next evaluation).
    start = came_up + cycle
    wait_s = start + IDLE_CYCLES * cycle - time.time()
    if wait_s > 0:
        time.sleep(wait_s)
    end = time.time()
    params = {"query": "ALERTS", "start": start, "end": end, "step": f"{cycle / 3:g}"}
    series = get(f"{prometheus_url}/query_range", params=params).json()["data"]["result"]
    seen = {(s["metric"]["alertname"], s["metric"]["alertstate"], s["metric"].get("job", "")) for s in series}
    firing = {name for name, state, _ in seen if state == "firing"}
    assert firing == {"Watchdog"}, f"firing over {end - start:.0f}s: {sorted(seen)}"
    pending = {(name, job) for name, state, job in seen if state == "pending"}
    unexplained = {(name, job) for name, job in pending if job not in dev_stack.skipped}
    assert not unexplained, f"pending over {end - start:.0f}s, not about a left-out service: {sorted(unexplained)}"


def test_containers_are_hardened_as_specified(client: docker.DockerClient, dev_stack: RunningStack) -> None:
    for service, container_id in dev_stack.containers.items():
        spec = dev_stack.service(service)
        host = client.api.inspect_container(container_id)["HostConfig"]
        assert host["ReadonlyRootfs"] is True, service
        assert host["SecurityOpt"] == list(SECURITY_OPTS), service
        assert host["CapDrop"] == ["ALL"], service
        assert host["Memory"] == spec.resources.limits.memory_mb * 1024 * 1024, service
        code, out = run_in(client, container_id, "touch", "/written-by-the-engine-test")
        assert code != 0 and "Read-only file system" in out, f"{service}: root is writable: {out}"
        status = proc_status(client, container_id)
        assert status["Uid"].split()[:2] == [str(spec.uid)] * 2, service
        assert status["Gid"].split()[:2] == [str(spec.gid)] * 2, service
        assert status["NoNewPrivs"].strip() == "1", service
        assert int(status["CapBnd"], 16) == capability_mask(spec.capabilities_add), service
        assert int(status["CapEff"], 16) == 0, service


def test_memory_limit_is_enforced(client: docker.DockerClient, dev_stack: RunningStack) -> None:
    container_id = dev_stack.containers[backup.NAME]
    limit_mb = dev_stack.service(backup.NAME).resources.limits.memory_mb
    # Bytes written (not just reserved), 64 MB over the limit: the kernel kills the process.
    code, out = run_in(client, container_id, "python3", "-c", f"x = b'x' * {(limit_mb + 64) * 1024 * 1024}")
    assert code == 137, f"allocation over the limit was not killed (exit {code}): {out}"
    code, out = run_in(client, container_id, "python3", "-c", f"x = b'x' * {limit_mb // 4 * 1024 * 1024}")
    assert code == 0, f"a quarter of the limit must fit: {out}"
    state = client.api.inspect_container(container_id)["State"]
    assert state["Running"] and state["Health"]["Status"] == "healthy", "the service itself survived"


def take_backup(client: docker.DockerClient, stack: RunningStack) -> str:
    """A backup taken now in the backup container, as an operator would (docs/backups.md); its name."""
    container_id = stack.containers[backup.NAME]
    command = backup.tool_command(stack.settings, "backup", data_dir=gateway.DATA_DIR, backup_dir=backup.BACKUP_DIR)
    code, out = run_in(client, container_id, *command)
    assert code == 0, out
    code, out = run_in(
        client, container_id, "python3", "-m", backup.PACKAGE, "list", "--backup-dir", backup.BACKUP_DIR, "--json"
    )
    assert code == 0, out
    newest = json.loads(out)[-1]
    assert newest["complete"], newest
    return str(newest["name"])


def test_backup_container_backs_up_the_gateway_databases(client: docker.DockerClient, dev_stack: RunningStack) -> None:
    container_id = dev_stack.containers[backup.NAME]
    name = take_backup(client, dev_stack)
    folder = f"{backup.BACKUP_DIR}/{name}"
    code, out = run_in(
        client, container_id, "python3", "-m", backup.PACKAGE, "verify", "--backup-dir", backup.BACKUP_DIR, name
    )
    assert code == 0 and "integrity ok" in out, out
    code, out = run_in(client, container_id, "ls", folder)
    assert set(KNOWN_DATABASES) <= set(out.split()), out
    # The copies hold what the real gateway wrote: its audit chain and the scrape key made at start.
    code, out = run_in(client, container_id, *row_count(f"{folder}/audit.db", "audit_entries"))
    assert code == 0 and int(out) >= 2, out
    code, out = run_in(client, container_id, *row_count(f"{folder}/auth.db", "api_keys"))
    assert code == 0 and int(out) >= 1, out


def _on_volume(mounts: tuple[VolumeMount, ...], old: str, new: str) -> tuple[VolumeMount, ...]:
    return tuple(dataclasses.replace(m, volume=new) if m.volume == old else m for m in mounts)


def test_a_second_gateway_boots_on_a_restored_backup(client: docker.DockerClient, dev_stack: RunningStack) -> None:
    """The restore drill (docs/backups.md): a backup of the running gateway, restored by the backup tool
    into a fresh volume, and a second real gateway started on it with the stack's secrets. It is healthy,
    the API key made on the first gateway works on it (auth.db came across) and its audit chain, the
    first gateway's entries plus its own start, verifies (POST /api/v1/audit/verify and
    friday_audit_chain_valid)."""
    name = take_backup(client, dev_stack)
    backup_id = dev_stack.containers[backup.NAME]
    code, out = run_in(client, backup_id, *row_count(f"{backup.BACKUP_DIR}/{name}/audit.db", "audit_entries"))
    assert code == 0, out
    backed_up = int(out)
    provider = runner(client, dev_stack).provider
    first = dev_stack.step(gateway.NAME)
    [data] = [m.volume for m in first.mounts if m.path == gateway.DATA_DIR]
    fresh = f"{data}-restored"
    provider.volume(fresh, {})
    # The fresh volume goes to the gateway's user, as the stack's volume-init does for its own.
    init = dev_stack.plan.step(f"{data}-init")
    assert isinstance(init, OneShot)
    fresh_init = dataclasses.replace(init, name=f"{fresh}-init", mounts=_on_volume(init.mounts, data, fresh))
    assert provider.run_one_shot(fresh_init, dev_stack.secrets) == 0
    # The backup tool restores from the backup container's volumes into the fresh one (no gateway on it).
    tool: ServiceContainer = dev_stack.step(backup.NAME)
    env = [f"{k}={v}" for k, v in sorted(tool.env.items()) if isinstance(v, str)]
    paths = ("--backup-dir", backup.BACKUP_DIR, "--data-dir", gateway.DATA_DIR)
    restore = OneShot(
        name=f"{tool.name}-restore",
        image=tool.settings.image,
        user=tool.settings.user,
        command=("env", *env, "python3", "-m", backup.PACKAGE, "restore", *paths, "--gateway-stopped", name),
        mounts=_on_volume(tool.mounts, data, fresh),
        read_only=True,
    )
    code = provider.run_one_shot(restore, dev_stack.secrets)
    assert code == 0, client.containers.get(restore.name).logs().decode(errors="replace")
    second = dataclasses.replace(
        first,
        settings=dataclasses.replace(first.settings, name=f"{first.name}-restored", ports=()),
        aliases=("gateway-restored",),
        mounts=_on_volume(first.mounts, data, fresh),
    )
    container_id = runner(client, dev_stack).run_service(second)
    try:
        url = container_url(client, container_id, dev_stack.plan.network, dev_stack.settings.gateway_port)
        key = dev_stack.secrets["metricsToken"]
        verdict = audit_verify(url, key)
        assert verdict["valid"] is True, verdict
        assert verdict["entriesChecked"] > backed_up >= 2, (verdict, backed_up)
        assert gateway_metric(url, key, "friday_audit_chain_valid") == 1
    finally:
        client.containers.get(container_id).remove(force=True)


def test_gateway_data_survives_recreating_the_container(client: docker.DockerClient, dev_stack: RunningStack) -> None:
    url = f"http://127.0.0.1:{dev_stack.port('gateway')}"
    key = dev_stack.secrets["metricsToken"]
    before = audit_verify(url, key)
    old_id = dev_stack.containers[gateway.NAME]
    step = dev_stack.step(gateway.NAME)
    provider = runner(client, dev_stack).provider
    # What `pulumi up` does when the container must be replaced: the provider's delete (stop with
    # destroy_grace_seconds, remove), then create it anew. The gateway gets SIGTERM and its grace:
    # it shuts down cleanly (exit 0, its own shutdown lines) well within the grace, not killed.
    assert step.settings.stop_signal == "SIGTERM"
    assert step.settings.stop_timeout_s == dev_stack.service(gateway.NAME).stop_grace_s > 0
    started = time.monotonic()
    provider.stop_service(step, old_id)
    took = time.monotonic() - started
    state = client.api.inspect_container(old_id)["State"]
    logs = client.containers.get(old_id).logs().decode(errors="replace")
    assert state["ExitCode"] == 0 and not state["OOMKilled"], (state, logs[-2000:])
    assert "Received SIGTERM, shutting down..." in logs and "Shutdown complete." in logs, logs[-2000:]
    assert took < step.settings.stop_timeout_s, took
    provider.remove_service(old_id)
    new_id = runner(client, dev_stack).run_service(step)
    dev_stack.containers[gateway.NAME] = new_id
    assert new_id != old_id
    # The key lives in auth.db on the data volume; the new container's start extends the same chain.
    after = audit_verify(url, key)
    assert after["valid"] is True, after
    assert after["entriesChecked"] > before["entriesChecked"], (before, after)


def test_scrape_credential_goes_through_the_metrics_auth_container(
    client: docker.DockerClient, dev_stack: RunningStack
) -> None:
    """Issue 10's design end to end: Prometheus holds no key; it scrapes metrics-auth, which adds
    X-API-Key from its environment and forwards GET /metrics only."""
    key = dev_stack.secrets["metricsToken"]
    port = dev_stack.service(metrics_auth.NAME).port(metrics_auth.PORT_NAME).number
    [gateway_job] = [t for t in scrape_targets(dev_stack.spec.long_running()) if t.job == gateway.NAME]
    assert gateway_job.address == f"{metrics_auth.NAME}:{port}"
    prometheus_files = dev_stack.plan.step(f"{dev_stack.step('prometheus').name}-config-init")
    assert isinstance(prometheus_files, OneShot)
    assert not any(key in u.resolve(dev_stack.secrets) for u in prometheus_files.uploads), "Prometheus holds the key"
    env = client.api.inspect_container(dev_stack.containers[metrics_auth.NAME])["Config"]["Env"]
    assert f"{metrics_auth.KEY_ENV}={key}" in env
    # From another container of the stack (Prometheus's), without any credential:
    prometheus_id = dev_stack.containers["prometheus"]
    base = f"http://{metrics_auth.NAME}:{port}"
    code, out = run_in(client, prometheus_id, "wget", "-q", "-O", "-", f"{base}{gateway.METRICS_PATH}")
    assert code == 0 and "# TYPE" in out, out
    gateway_log = client.containers.get(dev_stack.containers[gateway.NAME])
    refusals = (
        ["-O", "/dev/null", f"{base}/api/v1/tasks?engine-refused=1"],
        ["--post-data=x", "-O", "/dev/null", f"{base}/metrics?engine-refused=2"],
    )
    for refused in refusals:
        code, out = run_in(client, prometheus_id, "wget", "-q", *refused)
        assert code != 0, f"metrics-auth answered {refused}"
    # Then one it forwards. The gateway logs each request it gets, in order (the dev stack's level is
    # debug; its log is written asynchronously): once this one is in the log, the two before it would be.
    code, out = run_in(client, prometheus_id, "wget", "-q", "-O", "/dev/null", f"{base}/metrics?engine-control=1")
    assert code == 0, out
    poll(
        "the forwarded request in the gateway's log",
        lambda: True if b"engine-control=1" in gateway_log.logs() else None,
        timeout_s=10,
        every_s=0.5,
    )
    reached = [line for line in gateway_log.logs().splitlines() if b"engine-refused" in line]
    assert reached == [], f"metrics-auth forwarded: {reached}"


def test_nobody_silences_alerts_without_the_credential(client: docker.DockerClient, dev_stack: RunningStack) -> None:
    """Alertmanager's API wants its web credential from the host (its published port) and from the
    stack network (any container: here the gateway's); with it a silence is accepted. Prometheus'
    admin API is off from both."""
    am = f"http://127.0.0.1:{dev_stack.port('alertmanager')}"
    now = time.time()
    silence = {
        "matchers": [{"name": "alertname", "value": "Watchdog", "isRegex": False}],
        "startsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "endsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 300)),
        "createdBy": "engine-test",
        "comment": "must be refused without the credential",
    }
    password = dev_stack.secrets[web_auth.PASSWORD_KEY]
    assert session().post(f"{am}/api/v2/silences", json=silence, timeout=10).status_code == 401
    assert get(f"{am}/api/v2/silences").status_code == 401
    # From the stack network, by the service name, as any container of the stack would.
    gateway_id = dev_stack.containers[gateway.NAME]
    post = (
        "wget",
        "-q",
        "-S",
        "-O",
        "-",
        "--header",
        "Content-Type: application/json",
        "--post-data",
        json.dumps(silence),
    )
    code, out = run_in(client, gateway_id, *post, "http://alertmanager:9093/api/v2/silences")
    assert code != 0 and "401 Unauthorized" in out, out
    code, out = run_in(client, gateway_id, "wget", "-q", "-S", "-O", "-", "http://alertmanager:9093/api/v2/silences")
    assert code != 0 and "401" in out, out
    listed = get(f"{am}/api/v2/silences", auth=(web_auth.USER, password))
    assert listed.status_code == 200 and listed.json() == [], listed.text
    # With the credential: accepted.
    made = session().post(f"{am}/api/v2/silences", json=silence, auth=(web_auth.USER, password), timeout=10)
    assert made.status_code == 200, made.text
    session().delete(f"{am}/api/v2/silence/{made.json()['silenceID']}", auth=(web_auth.USER, password), timeout=10)
    # Prometheus: admin API off, from the host and from the stack network.
    prom = f"http://127.0.0.1:{dev_stack.port('prometheus')}"
    snapshot = session().post(f"{prom}/api/v1/admin/tsdb/snapshot", timeout=10)
    assert snapshot.status_code == 500 and "admin APIs disabled" in snapshot.text, snapshot.text
    assert session().post(f"{prom}/-/quit", timeout=10).status_code == 403
    code, out = run_in(
        client, gateway_id, "wget", "-q", "-S", "-O", "-", "--post-data", "", "http://prometheus:9090/-/quit"
    )
    assert code != 0 and "403" in out, out
