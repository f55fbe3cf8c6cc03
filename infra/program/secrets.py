"""Secret values as Pulumi secret Outputs: from the stack's encrypted config, else generated."""

from __future__ import annotations

import functools
from collections.abc import Iterable

import pulumi
import pulumi_random as random

from infra import PROJECT
from infra.monitoring import web_auth
from infra.settings import Settings, SettingsError, remote_write
from infra.settings.secrets import SECRETS_BY_KEY

# Secrets that are only ever generated: the program derives another value from them at deploy.
GENERATED_ONLY = (web_auth.PASSWORD_KEY, web_auth.HASH_KEY)


def resolve(
    settings: Settings, keys: Iterable[str], parent: pulumi.Resource | None = None
) -> dict[str, pulumi.Output[str]]:
    """One secret Output per key: the operator's value, or a RandomPassword's result."""
    config = pulumi.Config(PROJECT)
    out: dict[str, pulumi.Output[str]] = {}
    keys = set(keys)
    if keys & set(GENERATED_ONLY):
        out.update(_alertmanager_credential(settings, parent))
    for key in sorted(keys - set(GENERATED_ONLY)):
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


def _alertmanager_credential(settings: Settings, parent: pulumi.Resource | None) -> dict[str, pulumi.Output[str]]:
    """Alertmanager's password and its bcrypt hash, both from one RandomPassword (its `bcryptHash`
    output): the hash is made at deploy and the web config holds only it (infra/monitoring/web_auth.py)."""
    given = sorted(set(GENERATED_ONLY) & settings.secrets_set)
    if given:
        raise SettingsError(
            settings.stack,
            [
                f"{PROJECT}:{key} is set, but it is generated at deploy (its bcrypt hash is made from it): "
                f"`pulumi config rm {PROJECT}:{key} --stack {settings.stack}`"
                for key in given
            ],
        )
    spec = SECRETS_BY_KEY[web_auth.PASSWORD_KEY]
    assert spec.generate_length is not None
    password = random.RandomPassword(
        f"{settings.name_prefix}-{web_auth.PASSWORD_KEY}",
        length=spec.generate_length,
        # Letters and digits only: it goes into a URL (the healthcheck) and YAML unquoted.
        special=False,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return {
        web_auth.PASSWORD_KEY: pulumi.Output.secret(password.result),
        web_auth.HASH_KEY: pulumi.Output.secret(password.bcrypt_hash),
    }
