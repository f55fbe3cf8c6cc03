"""Secret values as Pulumi secret Outputs: from the stack's encrypted config, else generated."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pulumi
import pulumi_random as random

from infra import PROJECT
from infra.settings import Settings, SettingsError
from infra.settings.secrets import SECRETS_BY_KEY


def check_secret_values(settings: Settings, values: Mapping[str, str]) -> None:
    """Refuse secrets too short to be safe, naming the key but never the value."""
    problems = []
    for key in sorted(settings.secrets_set):
        spec = SECRETS_BY_KEY[key]
        value = values.get(f"{PROJECT}:{key}", "")
        if len(value) < spec.min_length:
            problems.append(
                f"{PROJECT}:{key} must be at least {spec.min_length} characters "
                f"(it has {len(value)}; the value itself is not shown)"
            )
    if problems:
        raise SettingsError(settings.stack, problems)


def resolve(
    settings: Settings, keys: Iterable[str], parent: pulumi.Resource | None = None
) -> dict[str, pulumi.Output[str]]:
    """One secret Output per key: the operator's value, or a RandomPassword's result."""
    config = pulumi.Config(PROJECT)
    out: dict[str, pulumi.Output[str]] = {}
    for key in sorted(keys):
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
