"""The backup service through the real Docker target under mocks: same volume and user as the gateway."""

from __future__ import annotations

from typing import Any

from infra.stack import backup, gateway
from tests.support.pulumi_harness import Recorder, delivered, deploy


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
