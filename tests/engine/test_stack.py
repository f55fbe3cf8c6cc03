"""The rendered dev stack on a real engine, with stand-in images (docs/engine-test.md).

The stack was created from the Docker target's plan in the provider's order (tests/support/engine/stack.py);
these tests look at what runs. The last test recreates the gateway container.
"""

from __future__ import annotations

import json

import docker

from infra.backup.core import KNOWN_DATABASES
from infra.stack import backup, blackbox, gateway, metrics_auth
from infra.stack.prometheus import scrape_targets
from infra.targets.docker_map import SECURITY_OPTS
from infra.targets.docker_plan import OneShot
from tests.support.engine.checks import capability_mask, get, poll, proc_status, run_in
from tests.support.engine.stack import RunningStack, runner


def starts_count(database: str) -> tuple[str, ...]:
    """A command printing how many starts the gateway stand-in recorded in a database."""
    query = "select count(*) from starts"
    return ("python3", "-c", f"import sqlite3; print(sqlite3.connect('{database}').execute('{query}').fetchone()[0])")


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
    """The stand-in demands the key, like the 0.1.0 gateway: in X-API-Key, never as Bearer (the
    metrics-auth container adds it to Prometheus's scrapes; the scrape above succeeded through it)."""
    base = f"http://127.0.0.1:{dev_stack.port('gateway')}"
    assert get(f"{base}{gateway.METRICS_PATH}").status_code == 401
    key = dev_stack.secrets["metricsToken"]
    assert get(f"{base}{gateway.METRICS_PATH}", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    answer = get(f"{base}{gateway.METRICS_PATH}", headers={"X-API-Key": key})
    assert answer.status_code == 200 and "# TYPE" in answer.text


def test_watchdog_reaches_alertmanager(dev_stack: RunningStack) -> None:
    url = f"http://127.0.0.1:{dev_stack.port('alertmanager')}/api/v2/alerts"

    def watchdog() -> dict[str, object] | None:
        alerts = get(url).json()
        return next((a for a in alerts if a["labels"].get("alertname") == "Watchdog"), None)

    alert = poll("Watchdog in Alertmanager", watchdog, timeout_s=90, every_s=2)
    assert alert["labels"]["stack"] == dev_stack.settings.stack  # type: ignore[index]


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


def test_backup_container_backs_up_the_gateway_databases(client: docker.DockerClient, dev_stack: RunningStack) -> None:
    container_id = dev_stack.containers[backup.NAME]
    settings = dev_stack.settings
    command = backup.tool_command(settings, "backup", data_dir=gateway.DATA_DIR, backup_dir=backup.BACKUP_DIR)
    code, out = run_in(client, container_id, *command)
    assert code == 0, out
    code, out = run_in(
        client, container_id, "python3", "-m", backup.PACKAGE, "list", "--backup-dir", backup.BACKUP_DIR, "--json"
    )
    assert code == 0, out
    newest = json.loads(out)[-1]
    assert newest["complete"], newest
    folder = f"{backup.BACKUP_DIR}/{newest['name']}"
    code, out = run_in(
        client,
        container_id,
        "python3",
        "-m",
        backup.PACKAGE,
        "verify",
        "--backup-dir",
        backup.BACKUP_DIR,
        newest["name"],
    )
    assert code == 0 and "integrity ok" in out, out
    code, out = run_in(client, container_id, "ls", folder)
    assert set(KNOWN_DATABASES) <= set(out.split()), out
    # The copy holds what the gateway stand-in wrote (one row per start).
    code, out = run_in(client, container_id, *starts_count(f"{folder}/audit.db"))
    assert code == 0 and int(out) >= 1, out


def test_gateway_data_survives_recreating_the_container(client: docker.DockerClient, dev_stack: RunningStack) -> None:
    count = starts_count(f"{gateway.DATA_DIR}/audit.db")
    old_id = dev_stack.containers[gateway.NAME]
    code, before = run_in(client, old_id, *count)
    assert code == 0, before
    # What `pulumi up` does when the container must be replaced: delete it, then create it anew.
    client.containers.get(old_id).remove(force=True)
    new_id = runner(client, dev_stack).run_service(dev_stack.step(gateway.NAME))
    dev_stack.containers[gateway.NAME] = new_id
    assert new_id != old_id
    code, after = run_in(client, new_id, *count)
    assert code == 0, after
    assert int(after) == int(before) + 1, "the new container found the old data and added its own start"
    assert get(f"http://127.0.0.1:{dev_stack.port('gateway')}{gateway.HEALTH_PATH}").status_code == 200


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
    seen_before = len(gateway_log.logs().splitlines())
    for refused in (
        ["-O", "/dev/null", f"{base}/api/v1/tasks"],
        ["--post-data=x", "-O", "/dev/null", f"{base}/metrics"],
    ):
        code, out = run_in(client, prometheus_id, "wget", "-q", *refused)
        assert code != 0, f"metrics-auth answered {refused}"
    # The gateway would refuse both as well: its request log shows they never reached it.
    new_lines = gateway_log.logs().splitlines()[seen_before:]
    reached = [line for line in new_lines if b"/api/v1/tasks" in line or b'"POST"' in line]
    assert reached == [], f"metrics-auth forwarded: {reached}"
