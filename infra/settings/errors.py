"""The one error type bad settings raise, with one line per problem."""

from __future__ import annotations


class SettingsError(ValueError):
    """Raised before any resource is declared when a stack's settings are wrong."""

    def __init__(self, stack: str, problems: list[str]) -> None:
        self.stack = stack
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"stack '{stack}': {len(problems)} bad setting(s):\n{lines}")
