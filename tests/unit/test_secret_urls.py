"""Receiver URLs are secrets (they carry tokens): `check --deployable` judges their decrypted values
without showing them: https wherever the secret travels; a development stack may post to http."""

from __future__ import annotations

import pytest

from infra.preflight import secret_value_problems
from testbed.settings import settings_of

SECRET = "tok3n-tok3n-tok3n"


@pytest.mark.parametrize(
    ("environment", "key", "value", "expected"),
    [
        (
            "prod",
            "alertWebhookUrl",
            f"http://hooks.example.org/{SECRET}",
            "has the scheme 'http'; it must start with https://",
        ),
        ("prod", "alertSlackUrl", f"hooks.slack.com/services/{SECRET}", "must be a URL starting with https://"),
        ("prod", "alertHeartbeatUrl", f"https://user:{SECRET}@hb.example.org/", "must not carry a user or password"),
        ("prod", "alertWebhookUrl", f"https:// example.org/{SECRET}", "contains a space"),
        ("dev", "alertWebhookUrl", f"ftp://hooks.example.org/{SECRET}", "it must start with https:// or http://"),
        ("prod", "alertWebhookUrl", f"https://hooks.example.org/{SECRET}", None),
        ("dev", "alertWebhookUrl", f"http://127.0.0.1:9000/{SECRET}", None),
        ("prod", "alertSlackUrl", f"https://hooks.slack.com/services/{SECRET}", None),
    ],
)
def test_receiver_urls_are_judged_and_never_shown(environment: str, key: str, value: str, expected: str | None) -> None:
    settings = settings_of({"environment": environment}, secrets=frozenset({key, "anthropicApiKey"}))
    problems = secret_value_problems(settings, {key: value, "anthropicApiKey": "sk-" + "x" * 40})
    if expected is None:
        assert problems == []
    else:
        [problem] = problems
        assert problem.startswith(f"friday:{key} ") and expected in problem
        assert SECRET not in problem
