"""The committed rule files: every static file of `alerts/` (the alert rules of infra/alerting/rules.py,
then the dashboards' recording rules of infra/alerting/recording.py), the same for every stack.

`python -m infra generate` writes them; Prometheus on every target loads them.
"""

from __future__ import annotations

import functools

from infra.alerting import recording, rules
from infra.settings import Settings


def committed_rule_paths() -> list[str]:
    """Paths relative to the repository root of every static rule file: the alerts, then the
    dashboards' recording rules (infra/alerting/recording.py, which builds on the alerts module)."""
    return [*(f.path for f in rules.RULE_FILES), recording.PATH]


@functools.cache
def _committed_rule_files() -> tuple[tuple[str, str], ...]:
    return (*((f.path, rules.rule_file_text(f)) for f in rules.RULE_FILES), (recording.PATH, recording.file_text()))


def committed_rule_files() -> dict[str, str]:
    """{path relative to the repository root: content} of every static rule file, in the order of
    committed_rule_paths. The same for every stack: generated once per process."""
    return dict(_committed_rule_files())


def loads(settings: Settings, path: str) -> bool:
    """Whether this stack's Prometheus loads a committed rule file: the remote-write rules only where
    remoteWrite has targets (without them there is no queue and no series to judge)."""
    return path != rules.REMOTE_WRITE_RULES.path or bool(settings.remote_write)


def stack_rule_files(settings: Settings) -> dict[str, str]:
    """The committed rule files this stack's Prometheus loads, in the order of committed_rule_paths."""
    return {path: text for path, text in _committed_rule_files() if loads(settings, path)}
