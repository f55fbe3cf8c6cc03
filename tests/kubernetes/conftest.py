"""Fixtures: the objects of each stack shape (tests/support/kubernetes.py VARIANTS)."""

from __future__ import annotations

import pytest

from infra.settings import Settings
from tests.support.kubernetes import VARIANTS, Manifest, variant_objects, variant_settings


@pytest.fixture(params=sorted(VARIANTS))
def variant(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(variant: str) -> Settings:
    return variant_settings(variant)


@pytest.fixture
def objects(variant: str) -> list[Manifest]:
    return variant_objects(variant)
