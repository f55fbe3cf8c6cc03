"""A release of CRD files made by the tests, so the program's verify-then-apply (infra/crds.py) runs
against a cache of known content whatever this machine's cache holds (the real release needs a
download for all ten files; ../shared/crds holds five)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from infra import crds as crd_pins

TEST_OPERATOR = "0.0.1"
CRD_HEAD = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n"
TEST_CRDS = {"a.yaml": f"{CRD_HEAD}  name: as.example.org\n", "b.yaml": f"{CRD_HEAD}  name: bs.example.org\n"}


@pytest.fixture
def crd_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A cache holding TEST_CRDS, their checksums pinned for TEST_OPERATOR (install mode's tests set
    `prometheusOperatorVersion` to it)."""
    monkeypatch.setitem(
        crd_pins.CHECKSUMS, TEST_OPERATOR, {f: hashlib.sha256(t.encode()).hexdigest() for f, t in TEST_CRDS.items()}
    )
    monkeypatch.setenv("FRIDAY_CRD_CACHE", str(tmp_path))
    (tmp_path / TEST_OPERATOR).mkdir()
    for file, text in TEST_CRDS.items():
        (tmp_path / TEST_OPERATOR / file).write_text(text, encoding="utf-8")
    return tmp_path / TEST_OPERATOR
