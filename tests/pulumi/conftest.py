"""Fixtures of the Pulumi-program tests."""

from tests.support.crd_cache import crd_cache

__all__ = ["crd_cache"]  # the install-mode tests' CRD release (a fixture pytest finds here)
