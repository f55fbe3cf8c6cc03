"""The hostile-document table (tests/support/hostile_files.py) through the real program (`run()`) as
`pulumi up` starts it: the stack file in the project folder is read with the same bounds before the
engine's values, so each document is refused in one line, fast, before any resource is declared."""

from __future__ import annotations

import time

import pytest

from infra.program.main import run
from infra.settings import SettingsError
from testbed.pulumi_harness import configure_stack_file
from tests.support.hostile_files import BOUND_SECONDS, HOSTILE, Hostile

STACK_FILE_CASES = [case for case in HOSTILE if not case.project]


@pytest.mark.parametrize("case", STACK_FILE_CASES, ids=[c.name for c in STACK_FILE_CASES])
def test_pulumi_up_refuses_a_hostile_stack_file_before_any_resource(case: Hostile) -> None:
    # The engine's values stand for what Pulumi would pass; the stack file itself is the hostile part.
    recorder = configure_stack_file("x", case.text, {"friday:target": "docker"})
    started = time.monotonic()
    with pytest.raises(SettingsError) as err:
        run()
    assert time.monotonic() - started < BOUND_SECONDS
    assert len(err.value.problems) == 1 and case.expected in err.value.problems[0]
    assert recorder.resources == []
