"""Secret values as Pulumi secret Outputs: from the stack's encrypted config, else generated."""

from __future__ import annotations

import functools
from collections.abc import Iterable

import pulumi
import pulumi_random as random

from infra import PROJECT
from infra.settings import Settings, SettingsError, remote_write
from infra.settings.secrets import SECRETS_BY_KEY


def resolve(
    settings: Settings, keys: Iterable[str], parent: pulumi.Resource | None = None
) -> dict[str, pulumi.Output[str]]:
    """One secret Output per key: the operator's value, or a RandomPassword's result."""
    config = pulumi.Config(PROJECT)
    out: dict[str, pulumi.Output[str]] = {}
    for key in sorted(keys):
        name = remote_write.target_of_credential_key(key)
        if name is not None and key not in SECRETS_BY_KEY:
            # One target's entry of the credentials secret (its value was checked by preflight).
            whole = config.require_secret(remote_write.CREDENTIALS_KEY)
            out[key] = pulumi.Output.secret(whole.apply(functools.partial(_credential, name=name)))
            continue
        spec = SECRETS_BY_KEY[key]
        if key in settings.secrets_set:
            out[key] = config.require_secret(key)
        elif spec.generate_length is not None:
            password = random.RandomPassword(
                f"{settings.name_prefix}-{key}",
                length=spec.generate_length,
                # Letters and digits only: these land in env vars and YAML unquoted.
                special=False,
                opts=pulumi.ResourceOptions(parent=parent),
            )
            out[key] = pulumi.Output.secret(password.result)
        else:
            raise SettingsError(
                settings.stack,
                [f"{PROJECT}:{key} is needed by the stack but not set: `pulumi config set --secret {PROJECT}:{key}`"],
            )
    return out


def _credential(text: str, name: str) -> str:
    return remote_write.credential_of(text, name)
