"""What the stack hands the gateway on each target: config file, environment, command-line flags.

Secrets are stood in for by values of their required length: the gateway's config code checks that
each required one is present, never what it holds.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from infra.host import artefacts, layout
from infra.host.systemd import gateway_unit
from infra.settings import Settings
from infra.settings.secrets import SECRETS_BY_KEY
from infra.stack import build_stack, gateway
from infra.stack.spec import SecretRef, Service

# Long enough for every secret's minimum (the signing key needs 32 characters).
_STAND_IN_LENGTH = 64


@dataclass(frozen=True)
class Handoff:
    """One way the gateway is started: `where` names it in messages."""

    where: str
    config_yaml: str
    env: dict[str, str]
    args: tuple[str, ...]


def _stand_in(ref: SecretRef) -> str:
    return "s" * max(_STAND_IN_LENGTH, SECRETS_BY_KEY[ref.key].min_length)


def _container(settings: Settings, service: Service) -> Handoff:
    [config] = [f for f in service.files if f.path == gateway.CONFIG_PATH]
    env = {k: v if isinstance(v, str) else _stand_in(v) for k, v in service.env.items()}
    # The container names no --config: the gateway finds CONFIG_PATH in its search order.
    return Handoff(
        f"{settings.target} target: the {service.name} container's config file {config.path}, environment and command",
        config.content,
        env,
        tuple(service.command),
    )


def _bare_metal(settings: Settings) -> Handoff:
    unit = gateway_unit(settings)
    env: dict[str, str] = {}
    args: tuple[str, ...] = ()
    for line in unit.splitlines():
        key, sep, value = line.partition("=")
        if not sep:
            continue
        if key == "Environment":
            name, _, val = value.partition("=")
            env[name] = val
        elif key == "ExecStart":
            argv = shlex.split(value)
            args = tuple(argv[2:])  # after the interpreter and the entry point
    for var, ref in gateway.gateway_env(settings, host=str(settings.gateway_bind_address)).items():
        if isinstance(ref, SecretRef):  # from the unit's EnvironmentFile
            env[var] = _stand_in(ref)
    return Handoff(
        f"bare metal: {layout.UNIT} with {layout.CONFIG_PATH}",
        artefacts.gateway_yaml(settings),
        env,
        args,
    )


def handoffs(settings: Settings) -> list[Handoff]:
    """Every way this stack starts the gateway: its target's container and the bare-metal unit
    (rendered for every stack)."""
    [service] = [s for s in build_stack(settings).services if s.name == gateway.NAME]
    return [_container(settings, service), _bare_metal(settings)]
