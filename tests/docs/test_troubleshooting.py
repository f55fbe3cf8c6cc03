"""docs/troubleshooting.md: the Problems section (by symptom) sits above the alert runbooks without
stealing their anchors, and every problem says how to recognise, diagnose and fix it."""

from __future__ import annotations

import re

from infra.alerting import rules
from infra.alerting.runbooks import github_anchor
from testbed.paths import REPO_ROOT
from tests.support.alerts import alert_rules

DOC = REPO_ROOT / rules.RUNBOOK_DOC
PROBLEMS_HEADING = "## Problems"
MIN_PROBLEMS = 12


def sections(text: str, heading: str) -> dict[str, str]:
    """`### title` -> body inside the `## ...` section that starts with heading."""
    assert heading in text, f"{DOC.name} has no {heading!r} section"
    part = text.split(heading + "\n", 1)[1].split("\n## ", 1)[0]
    pieces = re.split(r"^### (.+)$", part, flags=re.M)
    return {pieces[i].strip(): pieces[i + 1] for i in range(1, len(pieces), 2)}


def has_diagnosis_command(body: str) -> bool:
    """A non-empty ```sh block between **Diagnosis:** and **Fix:** (a command, not only prose)."""
    diagnosis = body.split("**Diagnosis:**", 1)[-1].split("**Fix:**", 1)[0]
    return bool(re.search(r"^```sh\n\s*\S.*?^```$", diagnosis, re.M | re.S))


def problems() -> dict[str, str]:
    return sections(DOC.read_text(encoding="utf-8"), PROBLEMS_HEADING)


def test_problems_come_before_the_alert_runbooks() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert text.index(PROBLEMS_HEADING + "\n") < text.index(rules.RUNBOOK_HEADING + "\n")


def test_enough_problems_each_with_symptom_diagnosis_command_and_fix() -> None:
    found = problems()
    assert len(found) >= MIN_PROBLEMS, f"only {len(found)} problems: {sorted(found)}"
    for title, body in found.items():
        assert "**Symptom:**" in body, title
        assert "**Diagnosis:**" in body, title
        assert has_diagnosis_command(body), f"{title}: no fenced diagnosis command"
        fix = body.split("**Fix:**", 1)[1] if "**Fix:**" in body else ""
        assert fix.strip(), f"{title}: no fix"


def test_problem_anchors_do_not_take_an_alert_runbook_anchor() -> None:
    # Problems come first: a problem heading with an alert's anchor would take it, and GitHub
    # would give the runbook `<anchor>-1`, breaking every runbook_url.
    alert_anchors = {github_anchor(name) for name in alert_rules()}
    problem_anchors = [github_anchor(title) for title in problems()]
    assert len(set(problem_anchors)) == len(problem_anchors), "two problems share an anchor"
    assert set(problem_anchors) & alert_anchors == set()
    assert github_anchor("Problems") not in alert_anchors


def test_the_check_catches_a_problem_without_a_command() -> None:
    text = "## Problems\n\n### A\n\n**Symptom:** s\n\n**Diagnosis:** look around\n\n**Fix:** f\n\n## Alert runbooks\n"
    assert not has_diagnosis_command(sections(text, PROBLEMS_HEADING)["A"])
    assert has_diagnosis_command(text.replace("look around", "look:\n\n```sh\nls /\n```"))
