"""Stack settings with off-host backup copies on (docs/backups.md#off-host-copies), for the tests."""

from __future__ import annotations

from infra.settings import Settings
from infra.settings.load import from_config_env, validate
from infra.settings.offsite import OFFSITE_SECRETS

ON = {
    "friday:backupOffsiteEnabled": "true",
    "friday:backupOffsiteEndpoint": "https://s3.example.org:9000",
    "friday:backupOffsiteBucket": "friday-backups",
    "friday:backupImage": "registry.example.org/friday-backup",
    "friday:backupTag": "0.14.0-1",
}


def settings(values: dict[str, str], stack: str = "prod") -> Settings:
    """The stack's settings from these values, every off-host secret marked set when any value is given."""
    secret_keys = {f"friday:{k}" for k in OFFSITE_SECRETS}
    values = {**values, **dict.fromkeys(secret_keys, "set")} if values else values
    return validate(from_config_env(stack, values, secret_keys))
