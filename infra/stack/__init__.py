"""The stack as data: pure functions from settings to what runs. No Pulumi here."""

from infra.stack.build import build_stack

__all__ = ["build_stack"]
