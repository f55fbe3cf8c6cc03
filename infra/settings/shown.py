"""How a value appears in a message: what the operator wrote, with every character that could be
misread made visible (invisible ones, and letters that look like ASCII but are not)."""

from __future__ import annotations

import unicodedata

# Short quotes are enough to recognise a value; a long one is cut (its length is said).
MAX_SHOWN = 120


def _visible(ch: str) -> bool:
    return ch.isascii() and ch.isprintable()


def shown(text: str) -> str:
    """`text` quoted, with non-ASCII and non-printable characters escaped and named:
    'pr\\u043ed' (U+043E CYRILLIC SMALL LETTER O)."""
    if len(text) <= MAX_SHOWN and all(_visible(ch) for ch in text):
        return repr(text)  # plain ASCII: as Python quotes it
    cut = text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN]
    escaped = "".join(ch if _visible(ch) and ch not in "'\\" else _escape(ch) for ch in cut)
    out = f"'{escaped}'" + (f"... ({len(text)} characters)" if cut is not text else "")
    odd = [ch for ch in dict.fromkeys(cut) if not _visible(ch)]
    if odd:
        names = ", ".join(f"U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed character')}" for ch in odd[:5])
        out += f" (contains {names})"
    return out


def _escape(ch: str) -> str:
    if ch in "'\\":
        return "\\" + ch
    if ch in "\t\n\r":
        return {"\t": "\\t", "\n": "\\n", "\r": "\\r"}[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
