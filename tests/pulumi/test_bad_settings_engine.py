"""The whole bad-settings table through the real program (`run()`), as `pulumi up` would start it:
the stack file in the project folder, the engine's strings in the config. Nothing may be declared."""

from __future__ import annotations

from typing import Any

import pytest

from infra.program.main import run
from infra.settings import SettingsError
from infra.stack.spec import EnvValue
from testbed.pulumi_harness import configure_stack_file
from tests.support.bad_settings import BAD, Bad, engine_strings


@pytest.mark.parametrize("case", BAD, ids=[c.name for c in BAD])
def test_pulumi_up_refuses_it_before_any_resource(case: Bad) -> None:
    recorder = configure_stack_file("x", case.text(), engine_strings(case.text()))
    with pytest.raises(SettingsError) as err:
        run()
    for part in case.expected:
        assert part in str(err.value)
    assert recorder.resources == []


def test_pulumi_up_refuses_what_the_gateway_would_refuse(monkeypatch: pytest.MonkeyPatch) -> None:
    """The gateway's own config code runs under `pulumi up` too (infra/gateway_config, the same
    preflight as `check --deployable`): a value it refuses stops the program before any resource."""
    from infra.stack import gateway
    from tests.support.real_gateway import require_build

    require_build()
    real = gateway.gateway_env

    def told_the_stack_name(*args: Any, **kwargs: Any) -> dict[str, EnvValue]:
        env = dict(real(*args, **kwargs))
        env["SECUREYEOMAN_ENV"] = "dev"  # what every stack told gateway 0.1.0 before it was mapped
        return env

    monkeypatch.setattr(gateway, "gateway_env", told_the_stack_name)
    text = "config:\n  friday:environment: dev\n"
    recorder = configure_stack_file("x", text, engine_strings(text))
    with pytest.raises(SettingsError) as err:
        run()
    assert "gateway 0.1.0 would refuse to start" in str(err.value)
    assert "received 'dev'" in str(err.value)
    assert recorder.resources == []
