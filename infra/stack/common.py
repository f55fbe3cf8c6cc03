"""Defaults every service shares, derived from settings in one place."""

from __future__ import annotations

from infra.settings import Settings
from infra.stack.spec import LogOptions

# Writable scratch space for services whose root filesystem is read-only.
TMPFS_TMP = {"/tmp": "rw,noexec,nosuid,nodev,size=64m"}


def log_options(settings: Settings) -> LogOptions:
    return LogOptions(max_size=settings.docker_log_max_size, max_files=settings.docker_log_max_files)


def user(uid: int, gid: int) -> str:
    return f"{uid}:{gid}"
