"""Hanging indents for pane items: continuation lines line up under the item's text."""

from __future__ import annotations

import textwrap

from rich.style import Style
from rich.text import Text


def append_hanging(
    out: Text, prefix: str, prefix_style: Style | str, body: str, body_style: Style | str, width: int
) -> None:
    """Append `prefix` + `body` to `out`, wrapping `body` within `width` under itself."""
    indent = len(prefix)
    room = max(width - indent, 8)
    lines = textwrap.wrap(body, room, break_long_words=True, break_on_hyphens=False) or [""]
    out.append(prefix, prefix_style)
    out.append(lines[0], body_style)
    for line in lines[1:]:
        out.append("\n" + " " * indent)
        out.append(line, body_style)
