"""One row of a Line-API widget from a Rich `Text`: cut to the width, never wrapped."""

from __future__ import annotations

from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual.strip import Strip


def text_strip(text: Text, width: int, style: Style, console: Console) -> Strip:
    """`text` cut with … to `width` cells, padded to it, over `style` (the row's base)."""
    text.truncate(width, overflow="ellipsis")
    return Strip(list(text.render(console))).adjust_cell_length(width, style).apply_style(style)
