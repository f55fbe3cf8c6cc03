"""The whole bad-settings table through the real program (`run()`), as `pulumi up` would start it:
the stack file in the project folder, the engine's strings in the config. Nothing may be declared."""

from __future__ import annotations

import pytest

from infra.program.main import run
from infra.settings import SettingsError
from tests.support.bad_settings import BAD, Bad, engine_strings
from tests.support.pulumi_harness import configure_stack_file


@pytest.mark.parametrize("case", BAD, ids=[c.name for c in BAD])
def test_pulumi_up_refuses_it_before_any_resource(case: Bad) -> None:
    recorder = configure_stack_file("x", case.text(), engine_strings(case.text()))
    with pytest.raises(SettingsError) as err:
        run()
    for part in case.expected:
        assert part in str(err.value)
    assert recorder.resources == []
