"""The repository stands on its own: what the code and docs rely on about the gateway is in
docs/gateway.md and tests/fixtures/, not in ../shared, which a clone does not have. ../shared is
named only for the Prometheus Operator CRDs (data the repository must not carry) and as the default
place of the gateway's source archive (`upstream/`; docs/real-gateway.md says how to get it elsewhere)."""

from __future__ import annotations

import re
import subprocess

from testbed.paths import GATEWAY_METRICS_FIXTURE, REPO_ROOT

SHARED_PATH = re.compile(r"\.\./shared\b|(?<![\w./-])shared/")
GATEWAY_SOURCE = re.compile(r"shared/upstream(?![\w.])")


def tracked_text_files() -> list[str]:
    done = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=30, check=True)
    return [line for line in done.stdout.splitlines() if not line.startswith("tests/fixtures/")]


def shared_mentions(text: str) -> list[str]:
    return [
        line
        for line in text.splitlines()
        if SHARED_PATH.search(line) and "crd" not in line.lower() and not GATEWAY_SOURCE.search(line)
    ]


def test_nothing_but_the_crds_is_read_from_shared() -> None:
    problems = []
    for rel in tracked_text_files():
        path = REPO_ROOT / rel
        if path == REPO_ROOT / "tests/docs/test_stands_alone.py" or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        problems += [f"{rel}: {line.strip()}" for line in shared_mentions(text)]
    assert problems == []


def test_the_check_sees_a_mention_of_shared() -> None:
    assert shared_mentions("see shared/gateway.md\nread ../shared/fixtures/x.prom")
    assert shared_mentions("CRDs come from ../shared/crds") == []
    assert shared_mentions("the source: ../shared/upstream/ by default") == []
    assert shared_mentions("see ../shared/upstream.md") == ["see ../shared/upstream.md"]
    assert shared_mentions("ssl_session_cache shared:friday_tls:10m;") == []
    assert shared_mentions("[ -f packages/shared/package.json ]") == []


def test_the_real_metrics_answer_is_a_fixture_of_the_repository() -> None:
    text = GATEWAY_METRICS_FIXTURE.read_text(encoding="utf-8")
    assert "# TYPE friday_tasks_total gauge" in text and "process_rss_bytes" in text
    assert (REPO_ROOT / "docs/gateway.md").read_text(encoding="utf-8").count("tests/fixtures/gateway-metrics.prom")
