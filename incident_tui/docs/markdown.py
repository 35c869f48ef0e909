"""Markdown that user text cannot break out of, and that never pings anyone.

Every piece of user text (titles, names, timeline lines, follow-ups) goes through
`inline`: `safe_text` first (control characters and bidi overrides become visible,
newlines become ⏎ so one entry stays on one line), then only the Markdown syntax
that would change the document's structure is escaped, so the text renders as the
characters typed and never as a heading, list, quote, table, code span, link,
emphasis or raw HTML. Punctuation that cannot (`~` alone, `-` mid-line, `>` in
`->`) is left as typed, so `~300 GB -> 4.5 GB` and `pg_dump` read as written.

A document is pasted into trackers and chat: `@name` would notify someone and `#123`
would cross-reference an issue. A WORD JOINER (U+2060, invisible, zero width) after
the `@` or `#` breaks both patterns on GitHub, GitLab and Slack while the text reads
the same. URLs (`http(s)://...`) stay links: they become `<URL>` autolinks, inside
which Markdown reads nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from ..domain.text import safe_text

# Characters that open inline structure anywhere in a line: code spans, emphasis,
# links and images, raw HTML and autolinks, table cells. Escaping ASCII punctuation
# with a backslash is always valid CommonMark/GFM. A translate table, not a regex:
# documents of 100k-event incidents escape ~100k strings.
_INLINE = str.maketrans({c: "\\" + c for c in "\\`*[]<|"})
_ANY_INLINE = re.compile(r"[\\`*\[\]<|]")  # most lines need no escaping: find out in C first
# `_` is emphasis only at a word's edge (GFM: never inside `pg_dump`). `~` and `~~`
# strike through (GitHub reads a single pair too), but only up to a closing run, and
# only a right-flanking run closes (after a letter, or after punctuation when a space
# or punctuation follows): escaping those alone leaves `~300 GB` and `(~1,200)` as
# typed with no strikethrough possible. `>` matters only as a quote at
# the start of a line (handled there) or after `<`, which is escaped.
_EDGE_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
_TILDE_CLOSER = re.compile(r"(?<=[0-9A-Za-z~\u00c0-\U0010ffff])~|(?<=\S)~(?=[\s!-/:-@\[-`{-~]|$)")
# Pings and cross-references, made inert with a WORD JOINER (see the module doc).
WJ = "\u2060"
# `bob@example.com` is no mention (GitHub and Slack agree); `repo#12` is a reference.
_MENTION = re.compile(r"(?<![0-9A-Za-z_.+\-])@(?=[0-9A-Za-z_])")
_REFERENCE = re.compile(r"#(?=[0-9])")
# A URL stays a link: `<URL>` is an autolink in every CommonMark renderer. Trailing
# punctuation is the sentence's, not the URL's (what linkify and GitHub do).
_URL = re.compile(r"https?://[^\s<>`\\\"'|\x00-\x1f\x7f]+", re.IGNORECASE)
_URL_TRAIL = ".,;:!?*_~)]}"
# An entity reference (`&lt;`, `&#60;`) would render as the character it names.
_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
# What turns the start of a line (or of a list item's content) into a block: ATX
# headings (`#` then a space), quotes, bullets (`-`, `+` then a space), thematic
# breaks and setext underlines (a line of `-` or `=`), ordered items (`1.`, `2)`).
# `#db`, `-> up` or `2026-01-31` at the start are left alone: they make no block.
_BLOCK_START = re.compile(r"^(#{1,6}(?=\s|$)|>|[+\-](?=\s|$)|-[-\s]*$|=+\s*$|\d{1,9}(?=[.)](?:\s|$)))")
_BLOCK_FIRST = frozenset("#>+-=0123456789")
# Characters `_escape` may touch: most lines have none, and one character-class search
# in C says so (an alternation of patterns costs twice as much; 100k-line timelines).
# The postmortem's timeline runs the same fast path inline in its own loop.
_SPECIAL_CHARS = "\\`*[]<|_~&@"
_SPECIAL = re.compile("[" + re.escape(_SPECIAL_CHARS) + "]")
# The same for a string known to be ASCII, with the characters `str.isprintable` refuses
# there (C0 controls and DEL): one scan instead of two, ~0.2 us a row of a 1M-row timeline.
_ASCII_SPECIAL = re.compile("[\x00-\x1f\x7f" + re.escape(_SPECIAL_CHARS) + "]")
# Trailing `#`s would be read as an ATX heading's closing sequence and dropped.
_TRAILING_HASHES = re.compile(r"(#+)$")


def _escape(s: str) -> str:
    """Text with no URL in it, escaped where Markdown would read structure."""
    if _ANY_INLINE.search(s):
        s = s.translate(_INLINE)
    if "_" in s:
        s = _EDGE_UNDERSCORE.sub(r"\\_", s)
    if "~" in s:
        s = _TILDE_CLOSER.sub(r"\\~", s)
    if "&" in s:
        s = _ENTITY.sub(r"\\&", s)
    if "@" in s:
        s = _MENTION.sub("@" + WJ, s)
    if "#" in s:
        s = _REFERENCE.sub("#" + WJ, s)
    return s


def _trim_url(url: str) -> str:
    while url and url[-1] in _URL_TRAIL:
        # A closing bracket the URL itself opened is part of it (Wikipedia's `_(x)`).
        if url[-1] in ")]}" and url.count("([{"[")]}".index(url[-1])]) >= url.count(url[-1]):
            break
        url = url[:-1]
    return url


def autolink(url: str) -> str:
    """An http(s) URL (never holding `|`, `<`, `>` or a space: `_URL` stops there) as an autolink."""
    return "<" + url + ">"


def link(url: object) -> str | None:
    """A stored link as an autolink, or None if it is not one http(s) URL (then show it as text)."""
    if not isinstance(url, str):
        return None
    m = _URL.fullmatch(url.strip())
    return autolink(m.group()) if m else None


def inline(text: object, limit: int = 4000) -> str:
    """User text as one line of Markdown that shows exactly what was typed."""
    # Stripped: four leading spaces make a code block, two trailing a hard break.
    if isinstance(text, str) and len(text) <= limit and text.isprintable():
        # No controls, newlines, tabs, bidi or separators (all "not printable"): nothing
        # for safe_text to do, and this C check is most of a 100k-line document's saving.
        s = text.strip()
    else:
        s = safe_text(text, limit, oneline=True).strip()
    if not s or (
        (s[0] not in _BLOCK_FIRST and _SPECIAL.search(s) is None and "://" not in s)
        and ("#" not in s or (s[-1] != "#" and _REFERENCE.search(s) is None))
    ):
        return s
    if "://" in s:
        parts: list[str] = []
        pos = 0
        for m in _URL.finditer(s):
            url = _trim_url(m.group())
            if url.endswith("://"):
                continue  # a scheme alone is no link
            parts.append(_escape(s[pos : m.start()]))
            parts.append(autolink(url))
            pos = m.start() + len(url)
        parts.append(_escape(s[pos:]))
        s = "".join(parts)
    else:
        s = _escape(s)
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
    for row in rows:  # a row with no empty cell (nearly every one) is joined as it is, in C
        out.append("| " + " | ".join(row if all(row) else [cell or " " for cell in row]) + " |")
    return out


def missing(text: str) -> str:
    """A placeholder shown in place of something the incident has not recorded."""
    return f"_{text}_"
