"""User text is data: one sanitizer every renderer uses, and tag extraction."""

from __future__ import annotations

import json
import re
from typing import Any

SAFE_TEXT_LIMIT = 4000

# Bidi embeddings/overrides/isolates and marks: they reorder what follows on screen
# (the "Trojan Source" trick), so they are shown, not obeyed.
_BIDI = {
    0x061C,
    0x200E,
    0x200F,
    0x202A,
    0x202B,
    0x202C,
    0x202D,
    0x202E,
    0x2066,
    0x2067,
    0x2068,
    0x2069,
}


def _visible(cp: int) -> str:
    if cp < 0x20:
        return chr(0x2400 + cp)  # control pictures: ␛ for ESC, ␀ for NUL
    if cp == 0x7F:
        return "\u2421"  # ␡
    return f"<U+{cp:04X}>"


def _build_table() -> dict[int, str]:
    table = {cp: _visible(cp) for cp in range(0x20) if cp not in (0x09, 0x0A)}
    table[0x7F] = _visible(0x7F)
    table.update({cp: _visible(cp) for cp in range(0x80, 0xA0)})
    table.update({cp: _visible(cp) for cp in _BIDI})
    table[0x2028] = _visible(0x2028)
    table[0x2029] = _visible(0x2029)
    return table


_TABLE = _build_table()
_NEEDS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def safe_text(text: object, limit: int = SAFE_TEXT_LIMIT, *, oneline: bool = False) -> str:
    """Make user text safe to show: escape sequences, C0/C1 controls (except newline
    and tab) and bidi controls become visible symbols, never terminal commands; the
    result is capped at `limit` characters. `oneline` also shows newlines as ⏎."""
    s = text if isinstance(text, str) else str(text)
    if len(s) > limit:
        s = s[: max(limit - 1, 0)] + "…"
    if _NEEDS.search(s):
        s = s.translate(_TABLE)
    if oneline:
        s = s.replace("\r", "").replace("\n", " ⏎ ").replace("\t", " ")
    return s


# JSON text that a terminal or a pipe can print as is: the json module escapes C0 itself;
# DEL, C1 (0x9b is a one-byte CSI), bidi controls, line/paragraph separators and lone
# surrogates (no UTF-8 form) become \uXXXX too. They only ever occur inside strings, so
# escaping them after encoding is still the same JSON.
_JSON_ESCAPES = {
    cp: f"\\u{cp:04x}" for cp in (0x7F, *range(0x80, 0xA0), *_BIDI, 0x2028, 0x2029, *range(0xD800, 0xE000))
}
_JSON_NEEDS = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]")


def escape_json_text(text: str) -> str:
    """JSON already encoded (ensure_ascii=False), with what could act on a terminal escaped."""
    return text.translate(_JSON_ESCAPES) if _JSON_NEEDS.search(text) else text


def json_text(obj: object, **kwargs: Any) -> str:
    """`json.dumps` for output a person's terminal may show: UTF-8 text kept readable,
    every control character escaped as \\uXXXX."""
    return escape_json_text(json.dumps(obj, ensure_ascii=False, **kwargs))


_TAG = re.compile(r"(?<![\w#])#([A-Za-z0-9][\w.\-/]*)")


def extract_tags(text: str) -> list[str]:
    """`#tag` words, lower-cased, in order of first appearance."""
    seen: dict[str, None] = {}
    for m in _TAG.finditer(text):
        seen.setdefault(m.group(1).rstrip(".-/").lower(), None)
    return [t for t in seen if t]
