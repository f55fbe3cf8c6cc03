"""Values the docs must write out (operators copy them) stay equal to the one place the code defines them.

Each row: a literal as the docs write it, the value from its source, and the documents that must
contain it. Changing the source without the docs fails here (and so does a doc that lost it).
"""

from __future__ import annotations

import pytest

from infra.logs.pipeline import SERVICE_LABEL, STACK_LABEL
from infra.metrics import jobs
from infra.settings.defaults import GATEWAY_DATA_DIR, LOKI_HTTP_PORT
from infra.settings.model import Settings
from infra.settings.secrets import placeholder
from testbed.paths import REPO_ROOT

BACKUP_PORT_DEFAULT = Settings.model_fields["backup_metrics_port"].default

CASES = [
    ("<secret:KEY>", placeholder("KEY"), ["README.md", "docs/logging.md", "docs/deployment.md"]),
    ("/var/lib/secureyeoman/data", GATEWAY_DATA_DIR, ["docs/troubleshooting.md", "docs/backups.md"]),
    ("friday.stack", STACK_LABEL, ["docs/logging.md", "docs/troubleshooting.md", "docs/deployment.md"]),
    ("friday.service", SERVICE_LABEL, ["docs/logging.md", "docs/deployment.md"]),
    ("3100", str(LOKI_HTTP_PORT), ["docs/logging.md", "docs/monitoring.md"]),
    ("9465", str(BACKUP_PORT_DEFAULT), ["docs/backups.md", "docs/monitoring.md"]),
    ('job="gateway"', f'job="{jobs.GATEWAY}"', ["docs/troubleshooting.md"]),
]


@pytest.mark.parametrize(("literal", "source", "docs"), CASES, ids=[c[0] for c in CASES])
def test_the_docs_write_the_value_their_source_defines(literal: str, source: str, docs: list[str]) -> None:
    assert literal == source
    for doc in docs:
        assert literal in (REPO_ROOT / doc).read_text(encoding="utf-8"), doc
