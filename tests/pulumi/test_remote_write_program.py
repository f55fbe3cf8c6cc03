"""Remote-write credentials through the Pulumi program (Docker target, mocks): each target's entry of
friday:remoteWriteCredentials lands in Prometheus' config volume as a 0400 file of its own, as a
secret, and nowhere in prometheus.yml."""

from __future__ import annotations

import json
from typing import Any

from tests.support.pulumi_harness import FAKE_AI_KEY, SECRET_SIG, Recorder, delivered, deploy

SECRET_MARK = "1b47061264138c4ac30d75fd1eb44270"
PASSWORD = "mimir-password-correct-horse"
TOKEN = "vm-bearer-token-battery-staple"
TARGETS = [
    {"name": "mimir", "url": "https://mimir.example.org/api/v1/push", "auth": "basic", "username": "t1"},
    {"name": "vm", "url": "https://vm.example.org/api/v1/write", "auth": "bearer"},
]


def unwrap(value: Any) -> Any:
    return value["value"] if isinstance(value, dict) and SECRET_SIG in value else value


def test_each_credential_is_a_secret_file_of_its_own() -> None:
    def check(rec: Recorder, _: Any) -> None:
        uploads = delivered(rec, "prometheus")
        assert uploads[SECRET_SIG] == SECRET_MARK, "the credential uploads must be secret"
        by_path = {u["file"]: u for u in unwrap(uploads)}
        mimir = by_path["/etc/prometheus/remote-write/mimir"]
        vm = by_path["/etc/prometheus/remote-write/vm"]
        assert mimir["content"] == PASSWORD and vm["content"] == TOKEN
        assert {mimir["permissions"], vm["permissions"]} == {"0400"}
        assert mimir["owner"] == "65534"
        config = by_path["/etc/prometheus/prometheus.yml"]["content"]
        assert "password_file: remote-write/mimir" in config
        assert "credentials_file: remote-write/vm" in config
        everything_else = json.dumps([u for p, u in by_path.items() if "/remote-write/" not in p])
        assert PASSWORD not in everything_else and TOKEN not in everything_else

    credentials = json.dumps({"mimir": PASSWORD, "vm": TOKEN})
    deploy(
        check,
        {"remoteWrite": TARGETS},
        secrets={"anthropicApiKey": FAKE_AI_KEY, "remoteWriteCredentials": credentials},
    )
