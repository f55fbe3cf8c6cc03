"""Off-host copies on every target: the task's command, its secrets (only as references or
placeholders in rendered files), the Kubernetes Secret and egress policy, the bare-metal
EnvironmentFile, the image's Dockerfile, and nothing of it when the setting is off."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from infra import render
from infra.backup.cli import parser
from infra.host import backup as host_backup
from infra.settings.load import from_config_env, missing_required_secrets, validate
from infra.settings.offsite import OFFSITE_SECRETS, offsite_notes
from infra.stack import backup, backup_offsite
from infra.stack.build import build_stack
from infra.stack.spec import SecretRef
from infra.targets.kubernetes_map import tasks
from infra.targets.kubernetes_map.meta import claim_name, selector
from tests.support.kubernetes import KUBERNETES_VERSIONS, kubernetes_validate, write_manifests
from tests.support.offsite_settings import ON, settings


def test_off_by_default_adds_nothing_and_notes_it_outside_development() -> None:
    off = settings({"friday:environment": "production"})
    task = backup.build(off).tasks[0]
    assert not any("offsite" in a for a in task.command + task.resident.command)
    assert not any(isinstance(v, SecretRef) for v in task.env.values())
    assert task.egress_ports == ()
    assert tasks.secret_keys(task) == []
    assert "backupOffsiteEnabled is false" in offsite_notes(off)[0]
    dev = settings({"friday:environment": "dev"}, "dev")
    assert offsite_notes(dev) == []


def test_the_task_sends_to_the_repository_with_its_secrets_as_references() -> None:
    on = settings(ON)
    task = backup.build(on).tasks[0]
    for command in (task.command, task.resident.command):
        i = command.index("--offsite-repository")
        assert command[i + 1] == "s3:https://s3.example.org:9000/friday-backups/friday/prod"
        assert command[command.index("--offsite-keep-daily") + 1] == "7"
    assert {k: v for k, v in task.env.items() if isinstance(v, SecretRef)} == {
        var: SecretRef(key) for var, key in backup_offsite.SECRET_ENV.items()
    }
    assert task.egress_ports == (9000,)
    # The command the task runs is one the tool accepts.
    args = list(task.command[3:])
    parsed = parser().parse_args(args)
    assert parsed.offsite_repository == command[i + 1] and parsed.offsite_keep_monthly == 6


def test_kubernetes_runs_the_copy_as_a_cronjob_of_its_own() -> None:
    """Its success is what BackupOffsiteStale reads there (kube-state-metrics): the backup CronJob has no
    off-host argument, secret or egress; the off-host one copies the backups a quarter hour later on the
    gateway's node (the backups claim is ReadWriteOnce) and mounts no gateway data. One backups claim."""
    on = settings(ON)
    spec = build_stack(on)
    objects = tasks.objects(on, spec)
    crons = {o["metadata"]["name"]: o for o in objects if o["kind"] == "CronJob"}
    local, offsite = tasks.cronjob_name(on, backup.NAME), tasks.cronjob_name(on, backup.OFFSITE_STEP)
    assert set(crons) == {local, offsite}
    assert crons[local]["spec"]["schedule"] == "0 */6 * * *"
    assert crons[offsite]["spec"]["schedule"] == f"{backup.OFFSITE_START_MINUTE} */6 * * *"
    pods = {n: c["spec"]["jobTemplate"]["spec"]["template"]["spec"] for n, c in crons.items()}
    [local_container], [offsite_container] = pods[local]["containers"], pods[offsite]["containers"]
    assert not any("offsite" in a for a in local_container["command"])
    assert not any("valueFrom" in e for e in local_container["env"])
    assert offsite_container["command"][3] == "offsite"
    assert pods[local]["affinity"] == pods[offsite]["affinity"]
    claims = {v["persistentVolumeClaim"]["claimName"] for v in pods[offsite]["volumes"] if "persistentVolumeClaim" in v}
    assert claims == {claim_name(on, backup.VOLUME)}
    assert [o["metadata"]["name"] for o in objects if o["kind"] == "PersistentVolumeClaim"] == [
        claim_name(on, backup.VOLUME)
    ]
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    assert [p["spec"]["podSelector"]["matchLabels"] for p in policies] == [selector(on, backup.OFFSITE_STEP)]
    # Off: one CronJob, the task itself.
    off = settings({})
    assert [o["metadata"]["name"] for o in tasks.objects(off, build_stack(off)) if o["kind"] == "CronJob"] == [
        tasks.cronjob_name(off, backup.NAME)
    ]


def test_kubernetes_reads_the_secrets_from_a_secret_and_may_reach_the_store() -> None:
    on = settings(ON)
    spec = build_stack(on)
    [task] = [t for t in spec.task(backup.NAME).steps if t.name == backup.OFFSITE_STEP]
    objects = {o["kind"]: o for o in tasks.task_objects(on, spec, task)}
    secret = objects["Secret"]
    assert secret["stringData"] == {k: f"<secret:{k}>" for k in sorted(OFFSITE_SECRETS)}
    container = objects["CronJob"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e}
    assert refs == {
        var: {"name": secret["metadata"]["name"], "key": key} for var, key in backup_offsite.SECRET_ENV.items()
    }
    egress = objects["NetworkPolicy"]["spec"]["egress"]
    assert {"protocol": "TCP", "port": 9000} in egress[-1]["ports"]


def test_bare_metal_keeps_the_secrets_in_a_root_only_environment_file() -> None:
    on = settings(ON)
    out = host_backup.produce(on, build_stack(on))
    unit = out[f"{host_backup.SYSTEMD_DIR}/{host_backup.UNIT}.service"]
    assert f"EnvironmentFile={host_backup.SECRETS_ENV_PATH}\n" in unit
    assert "AWS_" not in unit and "RESTIC_PASSWORD" not in unit
    example = out[host_backup.SECRETS_ENV_RENDER]
    for var, key in backup_offsite.SECRET_ENV.items():
        assert f"\n{var}=<secret:{key}>\n" in example
    off = settings({})
    assert host_backup.SECRETS_ENV_RENDER not in host_backup.produce(off, build_stack(off))


def test_render_writes_the_image_dockerfile_only_when_on(tmp_path: Path) -> None:
    on = settings(ON)
    written = {p.relative_to(tmp_path / "on").as_posix() for p in render.write(on, tmp_path / "on")}
    assert backup_offsite.IMAGE_DOCKERFILE in written
    text = (tmp_path / "on" / backup_offsite.IMAGE_DOCKERFILE).read_text()
    assert "restic=" in text and "python3=" in text and f"USER {on.gateway_uid}:{on.gateway_gid}" in text
    off = settings({})
    written = {p.relative_to(tmp_path / "off").as_posix() for p in render.write(off, tmp_path / "off")}
    assert backup_offsite.IMAGE_DOCKERFILE not in written


@pytest.mark.parametrize("missing", OFFSITE_SECRETS)
def test_each_secret_is_required_when_on(missing: str) -> None:
    keys = {f"friday:{k}" for k in OFFSITE_SECRETS if k != missing}
    on = validate(from_config_env("prod", {**ON, **dict.fromkeys(keys, "set")}, keys))
    [problem] = [p for p in missing_required_secrets(on) if "backupOffsite" in p]
    assert f"friday:{missing} is required because backupOffsiteEnabled = true" in problem


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_the_offsite_task_objects_pass_kubernetes_validate_strict(version: str, tmp_path: Path) -> None:
    on = settings(ON)
    spec = build_stack(on)
    objects = tasks.objects(on, spec)
    assert {o["kind"] for o in objects} == {"Secret", "NetworkPolicy", "ConfigMap", "PersistentVolumeClaim", "CronJob"}
    assert kubernetes_validate(write_manifests(objects, tmp_path), version) == []
    # A broken copy must be refused (the check is real).
    broken = [dict(o, spec={**o["spec"], "egres": []}) if o["kind"] == "NetworkPolicy" else o for o in objects]
    (tmp_path / "broken").mkdir()
    assert kubernetes_validate(write_manifests(broken, tmp_path / "broken"), version) != []


def test_the_offsite_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    on = settings(ON)
    out = host_backup.produce(on, build_stack(on))
    service = tmp_path / f"{host_backup.UNIT}.service"
    service.write_text(out[f"{host_backup.SYSTEMD_DIR}/{host_backup.UNIT}.service"])
    (tmp_path / f"{host_backup.UNIT}.timer").write_text(out[f"{host_backup.SYSTEMD_DIR}/{host_backup.UNIT}.timer"])
    done = subprocess.run(
        ["systemd-analyze", "verify", str(service), str(tmp_path / f"{host_backup.UNIT}.timer")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr
    # Negative control: a misspelt key is reported.
    broken = tmp_path / "broken.service"
    broken.write_text(service.read_text().replace("EnvironmentFile=", "EnvironmentFiles="))
    done = subprocess.run(
        ["systemd-analyze", "verify", str(broken)], capture_output=True, text=True, timeout=120, check=False
    )
    assert "EnvironmentFiles" in done.stderr
