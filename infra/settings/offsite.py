"""Off-host backup settings: the checks across keys, and what other layers derive from them."""

from __future__ import annotations

from typing import Protocol

from infra import PROJECT


class Settings(Protocol):
    """The fields read here (settings/model.py calls into this module, so it does not import the model)."""

    @property
    def stack(self) -> str: ...
    @property
    def is_development(self) -> bool: ...
    @property
    def secrets_set(self) -> frozenset[str]: ...
    @property
    def backup_image(self) -> str: ...
    @property
    def backup_interval_hours(self) -> int: ...
    @property
    def backup_offsite_enabled(self) -> bool: ...
    @property
    def backup_offsite_endpoint(self) -> str: ...
    @property
    def backup_offsite_bucket(self) -> str: ...
    @property
    def backup_offsite_path(self) -> str: ...
    @property
    def backup_offsite_keep_last(self) -> int: ...
    @property
    def backup_offsite_keep_daily(self) -> int: ...
    @property
    def backup_offsite_keep_weekly(self) -> int: ...
    @property
    def backup_offsite_keep_monthly(self) -> int: ...
    @property
    def backup_offsite_stale_after_hours(self) -> int: ...


# The secrets an off-host copy needs (infra/settings/secrets.py describes them).
ACCESS_KEY_ID = "backupOffsiteAccessKeyId"
SECRET_ACCESS_KEY = "backupOffsiteSecretAccessKey"
RESTIC_PASSWORD = "backupOffsiteResticPassword"
OFFSITE_SECRETS = (ACCESS_KEY_ID, SECRET_ACCESS_KEY, RESTIC_PASSWORD)
# Stock Python images carry no restic.
STOCK_PYTHON = "python"


def stale_after_hours(settings: Settings) -> int:
    """BackupOffsiteStale's limit: the setting, else two intervals and an hour (one failed copy is not stale)."""
    return settings.backup_offsite_stale_after_hours or 2 * settings.backup_interval_hours + 1


def repository_path(settings: Settings) -> str:
    return settings.backup_offsite_path or f"friday/{settings.stack or 'stack'}"


def repository(settings: Settings) -> str:
    """restic's repository location (no credential in it: the endpoint refuses a user or password)."""
    return f"s3:{settings.backup_offsite_endpoint}/{settings.backup_offsite_bucket}/{repository_path(settings)}"


def offsite_problem(settings: Settings) -> None:
    """Raise ValueError naming key, value and what is allowed when the off-host settings cannot work."""
    hours = settings.backup_offsite_stale_after_hours
    if hours and hours <= settings.backup_interval_hours:
        raise ValueError(
            f"{PROJECT}:backupOffsiteStaleAfterHours = {hours} must exceed backupIntervalHours = "
            f"{settings.backup_interval_hours} (or be 0 for twice the interval plus one), or BackupOffsiteStale "
            "fires between two healthy copies"
        )
    if not settings.backup_offsite_enabled:
        return
    for key, value in (
        ("backupOffsiteEndpoint", settings.backup_offsite_endpoint),
        ("backupOffsiteBucket", settings.backup_offsite_bucket),
    ):
        if not value:
            raise ValueError(
                f"{PROJECT}:backupOffsiteEnabled = true needs {PROJECT}:{key} (empty now): the object store's "
                "HTTPS endpoint and the bucket, such as 'https://s3.example.org' and 'friday-backups'"
            )
    keep = (
        settings.backup_offsite_keep_last,
        settings.backup_offsite_keep_daily,
        settings.backup_offsite_keep_weekly,
        settings.backup_offsite_keep_monthly,
    )
    if not any(keep):
        raise ValueError(
            f"{PROJECT}:backupOffsiteKeepLast, KeepDaily, KeepWeekly and KeepMonthly are all 0: restic's forget "
            "would have no rule; set at least one above 0 (default: last 4, daily 7, weekly 4, monthly 6)"
        )
    if settings.backup_image.rsplit("/", 1)[-1] == STOCK_PYTHON:
        raise ValueError(
            f"{PROJECT}:backupOffsiteEnabled = true with {PROJECT}:backupImage = {settings.backup_image!r}: a stock "
            "Python image has no restic; build the rendered backup-image/Dockerfile (Debian's python3 and restic, "
            "docs/backups.md) and set backupImage and backupTag to it"
        )


def offsite_notes(settings: Settings) -> list[str]:
    """`check` and `render` notes (not errors)."""
    if not settings.backup_offsite_enabled and not settings.is_development:
        return [
            f"{PROJECT}:backupOffsiteEnabled is false: every backup lives on the same host (or volume) as the data "
            "it protects; a lost disk loses both. Send them off-host with restic: docs/backups.md#off-host-copies"
        ]
    return []


def missing_offsite_secrets(settings: Settings) -> list[str]:
    if not settings.backup_offsite_enabled:
        return []
    return [key for key in OFFSITE_SECRETS if key not in settings.secrets_set]
