"""Markdown that user text cannot break out of.

Every piece of user text (titles, names, timeline lines, follow-ups) goes through
`inline`: `safe_text` first (control characters and bidi overrides become visible,
newlines become ⏎ so one entry stays on one line), then Markdown's own syntax is
escaped so the text renders as the characters typed and never as a heading, list,
quote, table, code span, link, emphasis or raw HTML.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from ..domain.text import safe_text

# Characters that open inline structure anywhere in a line: code spans, emphasis,
# strikethrough, links and images, raw HTML and autolinks, table cells. Escaping
# ASCII punctuation with a backslash is always valid CommonMark/GFM. A translate
# table, not a regex: documents of 100k-event incidents escape ~100k strings.
_INLINE = str.maketrans({c: "\\" + c for c in "\\`*_~[]<>|"})
_ANY_INLINE = re.compile(r"[\\`*_~\[\]<>|]")  # most lines need no escaping: find out in C first
# An entity reference (`&lt;`, `&#60;`) would render as the character it names.
_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
# What turns the start of a line (or of a list item's content) into a block:
# ATX headings, quotes, bullets, thematic breaks, setext underlines, ordered items.
_BLOCK_START = re.compile(r"^([#>+\-=*]|\d{1,9}(?=[.)]))")
_BLOCK_FIRST = frozenset("#>+-=*0123456789")
# Trailing `#`s would be read as an ATX heading's closing sequence and dropped.
_TRAILING_HASHES = re.compile(r"(#+)$")


def inline(text: object, limit: int = 4000) -> str:
    """User text as one line of Markdown that shows exactly what was typed."""
    # Stripped: four leading spaces make a code block, two trailing a hard break.
    if isinstance(text, str) and len(text) <= limit and text.isprintable():
        # No controls, newlines, tabs, bidi or separators (all "not printable"): nothing
        # for safe_text to do, and this C check is most of a 100k-line document's saving.
        s = text.strip()
    else:
        s = safe_text(text, limit, oneline=True).strip()
    if _ANY_INLINE.search(s):
        s = s.translate(_INLINE)
    if "&" in s:
        s = _ENTITY.sub(r"\\&", s)
    if s and s[0] in _BLOCK_FIRST:
        m = _BLOCK_START.match(s)
        if m:
            if m.group(1).isdigit():
                # `1. x` -> `1\. x`: the digits stay, the delimiter is escaped.
                end = m.end()
                s = s[:end] + "\\" + s[end:]
            else:
                s = "\\" + s
    if s.endswith("#"):
        s = _TRAILING_HASHES.sub(lambda mm: "\\#" * len(mm.group(1)), s)
    return s


def code(text: str) -> str:
    """A literal command from our own vocabulary (never user text) as a code span."""
    return f"`{text}`"


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """A GFM table; cells must already be `inline` (or our own trusted text)."""
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out.extend("| " + " | ".join(cell or " " for cell in row) + " |" for row in rows)
    return out


def missing(text: str) -> str:
    """A placeholder shown in place of something the incident has not recorded."""
    return f"_{text}_"
