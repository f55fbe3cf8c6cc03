"""Each text pattern a setting must match, said in words: messages never show a bare regular
expression. tests/unit/test_messages.py checks that every pattern of the model has its words."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic.fields import FieldInfo

_EMPTY = "empty, or "
_NAME = "2 to 32 characters: lower-case letters, digits and '-', starting with a letter and not ending with '-'"
_LABEL = "a DNS label: 1 to 63 lower-case letters, digits and '-', starting and ending with a letter or digit"
_SUBDOMAIN = "a DNS name: up to 253 lower-case letters, digits, '-' and '.', starting and ending with a letter or digit"
_EMAIL = "an e-mail address such as ops@example.org (one '@', no spaces or commas)"

WORDS: dict[str, str] = {
    r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$": _NAME,
    r"^[0-9]+\.[0-9]+\.[0-9]+$": "a version of three numbers such as 92.3.0",
    r"^$|^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$": _EMPTY + "a storage class name: lower-case letters, digits, '-' and '.'",
    r"^$|^[A-Za-z0-9@:._/-]{1,253}$": _EMPTY + "a kubeconfig context name: letters, digits and @ : . _ / -",
    r"^$|^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$": _EMPTY + _SUBDOMAIN,
    r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$": _LABEL,
    r"^$|^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$": _EMPTY + _LABEL,
    r"^[1-9][0-9]*(B|KB|MB|GB|TB)$": "a whole number and a unit B, KB, MB, GB or TB, such as 20GB",
    r"^$|^[#@][A-Za-z0-9._-]{1,80}$": _EMPTY + "a Slack channel '#name' or user '@name'",
    r"^$|^[^@\s,]+@[^@\s,]+$": _EMPTY + _EMAIL,
    r"^$|^[A-Za-z0-9.-]+:[0-9]{1,5}$": _EMPTY + "host:port of the mail server, such as smtp.example.org:587",
    r"^(/[A-Za-z0-9._-]+)+$": "an absolute path of letters, digits, '.', '_' and '-' such as /var/lib/friday",
    r"^[1-9][0-9]*(h|d|w)$": "a whole number of hours, days or weeks such as 744h, 31d or 4w",
    r"^[a-z_][a-z0-9_-]{0,30}$": (
        "a user name: up to 31 lower-case letters, digits, '_' and '-', not starting with a digit or '-'"
    ),
    r"^[1-9][0-9]*[kMG]$": "a whole number and a unit k, M or G, such as 100M",
    r"^https?://[A-Za-z0-9.:\[\]-]+$": "an http:// or https:// address of a host and optional port, without a path",
    r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$": "a host name such as friday.example.org",
    r"^$|^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?$": _EMPTY
    + "an https:// address of a host and optional port, without a path",
}


def words(pattern: str) -> str:
    """The words for a pattern; a pattern without words gets a pointer to the reference, not itself."""
    return WORDS.get(pattern, "a value of another form: see this setting in the settings reference (README.md)")


def patterns(fields: dict[str, FieldInfo]) -> Iterator[tuple[str, str]]:
    """(key, pattern) of every field constrained by a pattern."""
    for name, info in fields.items():
        for meta in info.metadata:
            pattern = getattr(meta, "pattern", None)
            if isinstance(pattern, str):
                yield info.alias or name, pattern
