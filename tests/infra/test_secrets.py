"""Bare metal: the unit's EnvironmentFile (the gateway's secrets) is private and filled in."""

from __future__ import annotations

import shlex
from typing import Any

import pytest

from infra.host import layout
from infra.settings.secrets import SECRETS
from tests.infra.options import HostConfig

# grep's exit codes: 0 a placeholder found, 1 none, 2 the file could not be read. With -o only the
# placeholders are printed, never a line that may hold a real value.
GREP_NONE, GREP_ERROR = 1, 2


@pytest.mark.baremetal
def test_environment_file_is_private_and_has_no_placeholders(host: Any, friday: HostConfig) -> None:
    env = host.file(friday.path(layout.ENV_PATH))
    assert env.is_file, f"no secrets file at {env.path} (the gateway unit's EnvironmentFile)"
    assert env.mode & 0o077 == 0, f"{env.path} has mode {env.mode:o}: its secrets are readable by others (use 0600)"
    patterns = " ".join(f"-e {shlex.quote(s.placeholder())}" for s in SECRETS)
    found = host.run(f"grep -n -o -F {patterns} {shlex.quote(env.path)}")
    assert found.rc != GREP_ERROR, f"cannot read {env.path} ({found.stderr.strip()}): run the suite with --sudo"
    assert found.rc == GREP_NONE, f"{env.path} still holds rendered placeholders on lines {found.stdout.split()}"
