"""Messages a person can act on: the value with every misreadable character made visible, what is
allowed in words (never a bare regular expression)."""

from __future__ import annotations

import re

import pytest

from infra.settings import SettingsError
from infra.settings.model import Settings
from infra.settings.pattern_words import WORDS, patterns
from infra.settings.shown import shown
from testbed.settings import settings_of

REGEX_BITS = re.compile(r"\^|\$|\[[^\]]*\]\{|\\s|\(\?")


def test_every_pattern_of_the_model_is_said_in_words() -> None:
    missing = [(key, p) for key, p in patterns(Settings.model_fields) if p not in WORDS]
    assert missing == []
    assert [w for w in WORDS.values() if REGEX_BITS.search(w)] == []


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("environment", "Prod", "2 to 32 characters: lower-case letters"),
        ("kubernetesIngressClass", "Nginx_", "lower-case letters, digits"),
        ("alertSlackChannel", "general", "a Slack channel '#name' or user '@name'"),
        ("prometheusRetentionSize", "20 gb", "a whole number and a unit"),
        ("lokiRetentionPeriod", "31days", "units are ms, s, m, h, d, w and y"),
        ("hostDataDir", "relative/dir", "an absolute path"),
    ],
)
def test_a_refusal_says_what_is_allowed_in_words(key: str, value: str, expected: str) -> None:
    with pytest.raises(SettingsError) as err:
        settings_of({key: value})
    text = str(err.value)
    assert f"friday:{key} = {value!r}" in text and expected in text
    assert "should match pattern" not in text and not REGEX_BITS.search(text.split(": ", 1)[1])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("pr\u043ed", r"'pr\u043ed' (contains U+043E CYRILLIC SMALL LETTER O)"),
        ("dev\u200b", r"'dev\u200b' (contains U+200B ZERO WIDTH SPACE)"),
        ("de\tv", r"'de\tv' (contains U+0009 "),
    ],
)
def test_invisible_and_look_alike_characters_are_shown_escaped(value: str, expected: str) -> None:
    assert shown(value).startswith(expected)
    with pytest.raises(SettingsError) as err:
        settings_of({"environment": value})
    assert f"friday:environment = {expected}" in str(err.value)


def test_plain_ascii_is_quoted_as_before() -> None:
    assert shown("dev") == "'dev'" and shown("it's") == '"it\'s"'


def test_a_long_value_is_cut_and_its_length_said() -> None:
    assert shown("\u200b" + "x" * 300).endswith("... (301 characters) (contains U+200B ZERO WIDTH SPACE)")
