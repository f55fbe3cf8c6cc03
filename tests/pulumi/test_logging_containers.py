"""Loki and Alloy as the Docker target declares them (Pulumi program under mocks)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infra.logs import pipeline
from infra.stack import alloy, loki
from testbed.pulumi_harness import Recorder, delivered, deploy


def test_alloy_reads_the_socket_read_only_as_a_non_root_member_of_its_group() -> None:
    def check(rec: Recorder, _: Any) -> None:
        c = rec.named("friday-dev-alloy").inputs
        assert c["user"] == f"{alloy.UID}:{alloy.GID}"
        assert c["groupAdds"] == ["994"]
        # The harness points dockerSocketPath at a file of the project folder it runs the program in.
        host_socket = str(Path.cwd() / "docker.sock")
        socket = {"hostPath": host_socket, "containerPath": pipeline.DOCKER_SOCKET, "readOnly": True}
        assert socket in c["volumes"]
        assert {"volumeName": "friday-dev-alloy-data", "containerPath": alloy.DATA_DIR, "readOnly": False} in c[
            "volumes"
        ]
        assert c["capabilities"] == {"drops": ["ALL"]}
        assert c["readOnly"] is True
        assert "ports" not in c or not c["ports"]
        assert c["command"][-1] == alloy.CONFIG_PATH
        [upload] = delivered(rec, "alloy")
        assert upload["file"] == alloy.CONFIG_PATH
        assert loki.push_url() in upload["content"]
        assert c["healthcheck"]["tests"][0] == "CMD"

    deploy(check, {"dockerSocketGid": 994})


def test_loki_is_non_root_on_its_volume_and_published_on_loopback() -> None:
    def check(rec: Recorder, stack: Any) -> None:
        c = rec.named("friday-dev-loki").inputs
        assert c["user"] == "10001:10001"
        assert c["command"] == [f"-config.file={loki.CONFIG_PATH}", "-target=all"]
        assert c["ports"] == [{"internal": loki.HTTP_PORT, "external": 3110, "ip": "127.0.0.1", "protocol": "tcp"}]
        assert stack.urls["loki/http"] == "http://127.0.0.1:3110"
        assert c["networksAdvanced"] == [{"name": "friday-dev", "aliases": [loki.NAME]}]
        mounts = {v["containerPath"]: v.get("volumeName") for v in c["volumes"]}
        assert mounts[loki.DATA_DIR] == "friday-dev-loki-data"
        assert "groupAdds" not in c or not c["groupAdds"]
        init = rec.named("friday-dev-loki-data-init").inputs
        assert init["command"] == ["chown", "10001:10001", "/volume"]
        assert c["memory"] == 512 and c["logDriver"] == "json-file"

    deploy(check, {"lokiHostPort": 3110})


def test_containers_carry_the_labels_alloy_selects_on() -> None:
    def check(rec: Recorder, _: Any) -> None:
        for name in ("gateway", "loki", "alloy"):
            labels = {x["label"]: x["value"] for x in rec.named(f"friday-dev-{name}").inputs["labels"]}
            assert labels[pipeline.STACK_LABEL] == "dev"
            assert labels[pipeline.SERVICE_LABEL] == name

    deploy(check)
