"""The gateway's databases are on persistent storage, not in a `~` folder (gateway 0.1.0's default dataDir)."""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Any

import pytest
import yaml

from infra.backup import core
from infra.stack import gateway
from tests.infra.options import HostConfig

VOLATILE = {"tmpfs", "ramfs", "overlay", "devtmpfs"}


def _check_data_dir(value: object) -> str:
    assert isinstance(value, str) and value.startswith("/"), f"core.dataDir {value!r} is not an absolute path"
    assert "~" not in PurePosixPath(value).parts, f"core.dataDir {value!r} is under a '~' folder: data is lost"
    return value


@pytest.mark.baremetal
def test_databases_are_in_the_configured_persistent_folder(host: Any, friday: HostConfig) -> None:
    config = yaml.safe_load(host.file(friday.gateway_config).content_string)
    data_dir = _check_data_dir(config["core"]["dataDir"])
    folder = host.file(data_dir)
    assert folder.is_directory, f"{data_dir} does not exist"
    dbs = {n for n in folder.listdir() if n.endswith(".db")}
    assert dbs >= set(core.KNOWN_DATABASES), f"{data_dir} lacks {sorted(set(core.KNOWN_DATABASES) - dbs)}"
    fstype = host.run(f"findmnt -n -o FSTYPE -T {data_dir}")
    assert fstype.rc == 0, fstype.stderr
    assert fstype.stdout.strip() not in VOLATILE, f"{data_dir} is on {fstype.stdout.strip()}: lost on reboot"


@pytest.mark.docker
def test_data_dir_is_a_named_volume(host: Any, friday: HostConfig) -> None:
    name = friday.container(gateway.NAME)
    done = host.run(f"docker inspect --format '{{{{json .Mounts}}}}' {name}")
    assert done.rc == 0, done.stderr
    mounts = {m["Destination"]: m for m in json.loads(done.stdout)}
    mount = mounts.get(gateway.DATA_DIR)
    assert mount is not None, f"{name} has no mount at {gateway.DATA_DIR}: its databases die with the container"
    assert mount["Type"] == "volume" and mount["Name"] == friday.volume(gateway.DATA_VOLUME), mount
    config = host.run(f"docker exec {name} cat {gateway.CONFIG_PATH}")
    assert config.rc == 0, config.stderr
    assert _check_data_dir(yaml.safe_load(config.stdout)["core"]["dataDir"]) == gateway.DATA_DIR
    workdir = host.run(f"docker inspect --format '{{{{.Config.WorkingDir}}}}' {name}").stdout.strip() or "/"
    stray = host.run(f"docker exec {name} test -e '{workdir.rstrip('/')}/~'")
    assert stray.rc != 0, f"{name} has a '~' folder in {workdir}: something used the default dataDir"
