"""The incident list's table: a Line API ScrollView with a header row and a row cursor.

Textual's DataTable rendered each of the list's ~130 cells through Rich's Padding and
console machinery on the first frame; that was a tenth of the app's time to first
paint (bench/bench_ttfp.py: 30-40 ms of ~390). A list of incidents needs little of
what DataTable does (no sorting, no cell cursor, no column resizing), so each row here
is one `Text` cut to the column widths and rendered as one strip.
"""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from .strips import text_strip

GAP = 2  # blank cells between columns


class IncidentTable(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    IncidentTable {
        height: 1fr;
        background: $surface;
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
    }
    IncidentTable > .incident-table--header { text-style: bold; background: $panel; }
    IncidentTable > .incident-table--stripe { background: $surface-lighten-1; }
    IncidentTable > .incident-table--cursor { background: $block-cursor-blurred-background; }
    IncidentTable:focus > .incident-table--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "incident-table--header",
        "incident-table--stripe",
        "incident-table--cursor",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Up", show=False, id="list.up"),
        Binding("down,j", "cursor(1)", "Down", show=False, id="list.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="list.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="list.page_down"),
        Binding("home", "edge(0)", "First", show=False, id="list.first"),
        Binding("end", "edge(1)", "Last", show=False, id="list.last"),
    ]

    cursor: reactive[int] = reactive(0, always_update=True)

    class Chosen(Message):
        """The row under the cursor was clicked again: open it."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(self, columns: dict[str, int], **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self._columns = dict(columns)  # name -> width; 0 takes what is left
        self._keys: list[str] = []
        self._cells: list[list[Text]] = []

    # -- data -------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def selected(self) -> str | None:
        return self._keys[self.cursor] if 0 <= self.cursor < len(self._keys) else None

    def set_rows(self, rows: list[tuple[str, list[Text]]]) -> None:
        """Replace the rows; the cursor stays on the same key where it still exists."""
        keep = self.selected
        self._keys = [k for k, _ in rows]
        self._cells = [cells for _, cells in rows]
        self.virtual_size = Size(self.scrollable_content_region.width, len(self._keys) + 1)
        cursor = self._keys.index(keep) if keep in self._keys else min(self.cursor, len(self._keys) - 1)
        self.cursor = max(cursor, 0)
        self.refresh()

    def widths(self, width: int) -> list[int]:
        fixed = sum(self._columns.values()) + GAP * (len(self._columns) - 1)
        rest = max(12, width - fixed - 1)  # - 1: room for a scrollbar
        return [w or rest for w in self._columns.values()]

    # -- cursor -------------------------------------------------------------------------

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, len(self._keys) - 1))

    def watch_cursor(self, value: int) -> None:
        # Row r is line r + 1 (the header is line 0 and never scrolls away).
        self.scroll_to_region(Region(0, value, 1, 2), animate=False, immediate=True)
        self.refresh()

    def action_cursor(self, step: int) -> None:
        self.cursor += step

    def action_page(self, step: int) -> None:
        self.cursor += step * max(1, self.scrollable_content_region.height - 1)

    def action_edge(self, end: int) -> None:
        self.cursor = len(self._keys) - 1 if end else 0

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            return
        row = int(self.scroll_y) + event.y - 1
        if not 0 <= row < len(self._keys):
            return
        if row == self.cursor:
            self.post_message(self.Chosen(self._keys[row]))
        self.cursor = row

    def on_resize(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self._keys) + 1)
        self.refresh()

    # -- drawing ----------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        style = self.get_component_rich_style
        if y == 0:
            header = [Text(name) for name in self._columns]
            return self._strip(header, width, self.rich_style + style("incident-table--header"))
        row = int(self.scroll_y) + y - 1
        if not 0 <= row < len(self._keys):
            return Strip.blank(width, self.rich_style)
        base = self.rich_style
        if row == self.cursor:
            base = base + style("incident-table--cursor")
        elif row % 2:
            base = base + style("incident-table--stripe")
        return self._strip(self._cells[row], width, base)

    def _strip(self, cells: list[Text], width: int, base: Style) -> Strip:
        line = Text(no_wrap=True, overflow="ellipsis")
        for i, (cell, w) in enumerate(zip(cells, self.widths(width), strict=False)):
            if i:
                line.append(" " * GAP)
            cell = cell.copy()
            cell.truncate(w, overflow="ellipsis")
            gap = w - cell.cell_len
            if cell.justify == "right":
                line.append(" " * gap)
                line.append_text(cell)
            else:
                line.append_text(cell)
                line.append(" " * gap)
        return text_strip(line, width, base, self.app.console)
