"""The backup service through the real Docker target under mocks: same volume and user as the gateway."""

from __future__ import annotations

from typing import Any

from infra.stack import backup, gateway
from testbed.pulumi_harness import FAKE_AI_KEY, SECRET_SIG, Recorder, delivered, deploy


def test_backup_container_reads_the_gateway_volume_as_the_gateway_user() -> None:
    def check(rec: Recorder, stack: Any) -> None:
        c = dict(rec.named("friday-dev-backup").inputs)
        g = dict(rec.named("friday-dev-gateway").inputs)
        assert c["user"] == g["user"] == "2000:3000"
        mounts = {v["containerPath"]: v for v in c["volumes"]}
        assert mounts[gateway.DATA_DIR]["volumeName"] == "friday-dev-gateway-data"
        assert not mounts[gateway.DATA_DIR].get("readOnly")
        assert mounts[backup.BACKUP_DIR]["volumeName"] == "friday-dev-backups"
        assert mounts[backup.CONFIG_DIR]["volumeName"] == "friday-dev-backup-config"
        assert c["image"].endswith("python-3.12.8-slim-bookworm")
        assert "ports" not in c or not c["ports"]
        assert c["readOnly"] is True
        assert c["logOpts"] == {"max-size": "10m", "max-file": "5"}
        uploads = {u["file"] for u in delivered(rec, "backup")}
        assert f"{backup.CONFIG_DIR}/{backup.PACKAGE}/core.py" in uploads
        assert c["command"][:4] == ["python3", "-m", backup.PACKAGE, "serve"]
        assert "--interval-seconds" in c["command"] and str(12 * 3600) in c["command"]
        init = rec.named("friday-dev-backups-init").inputs
        assert init["command"] == ["chown", "2000:3000", "/volume"]

    deploy(check, {"gatewayUid": 2000, "gatewayGid": 3000, "backupIntervalHours": 12, "backupStaleAfterHours": 30})


def test_offsite_copies_give_the_backup_container_restic_secrets_as_a_secret_env() -> None:
    """With off-host copies on, the store's keys and the restic password reach the container only as
    its environment, a secret Output; its command names the repository, never a secret."""
    values = {"AK": "AKIAEXAMPLEKEYID0001", "SK": "secret-access-key-" + "s" * 24, "PW": "restic-pw-" + "p" * 24}

    def check(rec: Recorder, stack: Any) -> None:
        c = dict(rec.named("friday-dev-backup").inputs)
        envs = c["envs"]
        assert isinstance(envs, dict) and SECRET_SIG in envs
        assert {f"AWS_ACCESS_KEY_ID={values['AK']}", f"AWS_SECRET_ACCESS_KEY={values['SK']}"} <= set(envs["value"])
        assert f"RESTIC_PASSWORD={values['PW']}" in envs["value"]
        command = c["command"]
        assert (
            command[command.index("--offsite-repository") + 1] == "s3:https://s3.example.org/friday-backups/friday/dev"
        )
        assert c["image"].endswith("registry.example.org-friday-backup-0.14.0-1")
        for v in values.values():
            assert v not in str(command)
            assert all(v not in str(u["content"]) for u in delivered(rec, "backup"))

    deploy(
        check,
        {
            "backupOffsiteEnabled": True,
            "backupOffsiteEndpoint": "https://s3.example.org",
            "backupOffsiteBucket": "friday-backups",
            "backupImage": "registry.example.org/friday-backup",
            "backupTag": "0.14.0-1",
        },
        {
            "anthropicApiKey": FAKE_AI_KEY,
            "backupOffsiteAccessKeyId": values["AK"],
            "backupOffsiteSecretAccessKey": values["SK"],
            "backupOffsiteResticPassword": values["PW"],
        },
    )
