"""The incident timeline: a Line API ScrollView that draws only the rows on screen.

The row source (the interface between the timeline and whatever holds the events):
a `Sequence[Event]` in seq order that only ever grows (the fold's `state.timeline`).
The widget asks it only for `len(rows)` and `rows[i]` of the rows on screen, by
position, so a source may read them lazily: the JSON store's index hands the fold a
sequence that reads a row from the log file when it is asked for (store/index.py), and
a million-event incident costs what the screen shows. Only a filter (F5) walks every
row, once, and then keeps up incrementally. A filtered view holds the matching
positions, one int each.

One event, one small repaint: `sync()` takes note and returns; the virtual size, the
scroll to the bottom, the repaint and the status line happen once, after the message
being handled (however many events or calls it brought). The virtual size is set
without Textual's layout reactive: assigning `virtual_size` lays out the whole screen
(~20 ms of CPU per arriving event, measured), and nothing but this widget's scrollbar
depends on it here (the widget's own size comes from CSS).
Long lines are truncated with … at the right edge: one event is always one row, so
the timeline keeps its rhythm; the full text is in the snapshot and `incident-tui events`.
A line the store has only queued (remote store, offline) shows ⇡ in its marker column,
dimmed, until the server acknowledges it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ...domain.events import Event
from ...domain.text import safe_text
from ..describe import body, marker, tags, view
from .strips import text_strip

AUTHOR_WIDTH = 10
MARKER_WIDTH = 5
_CACHE_ROWS = 4000  # rendered rows kept: a few screens of scrolling back and forth


@dataclass(frozen=True)
class TimelineFilter:
    """`kind:decision`, `@alice`, `#db` and plain words, all of which must match."""

    kinds: frozenset[str] = frozenset()
    authors: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    words: tuple[str, ...] = ()
    source: str = ""

    @classmethod
    def parse(cls, text: str) -> TimelineFilter:
        kinds, authors, tag_set, words = set(), set(), set(), []
        for tok in text.split():
            low = tok.lower()
            if low.startswith("kind:") and len(low) > 5:
                kinds.add(low[5:])
            elif low.startswith("@") and len(low) > 1:
                authors.add(low[1:])
            elif low.startswith("#") and len(low) > 1:
                tag_set.add(low[1:])
            else:
                words.append(low)
        return cls(frozenset(kinds), frozenset(authors), frozenset(tag_set), tuple(words), text.strip())

    def __bool__(self) -> bool:
        return bool(self.kinds or self.authors or self.tags or self.words)

    def matches(self, e: Event) -> bool:
        if self.kinds and not any(e.kind == k or e.kind.startswith(k) for k in self.kinds):
            return False
        if self.authors and e.author.lower() not in self.authors:
            return False
        if self.tags and not self.tags.intersection(tags(e)):
            return False
        if self.words:
            hay = body(e).lower()
            return all(w in hay for w in self.words)
        return True


class TimelineChanged(Message):
    """Rows, scroll position or following changed: the status line redraws."""

    def __init__(self, timeline: Timeline) -> None:
        super().__init__()
        self.timeline = timeline


class Timeline(ScrollView, can_focus=True):
    """Newest at the bottom; follows live unless scrolled up."""

    DEFAULT_CSS = """
    Timeline {
        height: 1fr;
        background: $surface;
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
    }
    Timeline > .timeline--time { color: $text-muted; }
    Timeline > .timeline--author { color: $accent; text-style: bold; }
    Timeline > .timeline--marker { color: $text-muted; }
    Timeline > .timeline--decision { color: $warning; text-style: bold; }
    Timeline > .timeline--action { color: $success; text-style: bold; }
    Timeline > .timeline--state { color: $primary; }
    Timeline > .timeline--alert { color: $error; text-style: bold; }
    Timeline > .timeline--pending { color: $text-muted; text-style: italic; }
    Timeline > .timeline--empty { color: $text-muted; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "timeline--time",
        "timeline--author",
        "timeline--marker",
        "timeline--decision",
        "timeline--action",
        "timeline--state",
        "timeline--alert",
        "timeline--pending",
        "timeline--empty",
    }

    following: reactive[bool] = reactive(True)

    def __init__(
        self, events: Sequence[Event], *, local_tz: Callable[[datetime], datetime] | None = None, **kw
    ) -> None:
        super().__init__(**kw)
        self._events = events  # the row source (module docstring): only ever grows, read by position
        self._flush_due = False
        self._pending: list[Event] = []
        self._filter = TimelineFilter()
        self._rows: list[int] | None = None  # None: every event, in order (no copy)
        self._scanned = 0  # events examined by the filter so far
        self._cache: LRUCache[tuple[int, int], Strip] = LRUCache(_CACHE_ROWS)
        self._localize = local_tz or (lambda dt: dt.astimezone())

    # -- data ---------------------------------------------------------------------

    @property
    def filter(self) -> TimelineFilter:
        return self._filter

    @property
    def row_count(self) -> int:
        shown = len(self._events) if self._rows is None else len(self._rows)
        return shown + len(self._pending)

    @property
    def new_below(self) -> int:
        """Rows below the viewport (what waits below while the user reads back)."""
        if self.following:
            return 0
        return max(0, self.row_count - int(self.scroll_y) - self.scrollable_content_region.height)

    def set_filter(self, flt: TimelineFilter) -> None:
        self._filter = flt
        self._rows = [] if flt else None
        self._scanned = 0
        self._cache.clear()
        self.sync(force_follow=True)

    def set_pending(self, pending: list[Event]) -> None:
        if pending or self._pending:
            self._pending = pending
            shown = self._shown()  # rows past the stored ones are pending lines: drawn afresh
            for key in [k for k in self._cache.keys() if k[0] >= shown]:
                self._cache.discard(key)
            self.sync()

    def _shown(self) -> int:
        return len(self._events) if self._rows is None else len(self._rows)

    def sync(self, force_follow: bool = False) -> None:
        """Take in events the fold appended since the last call; keep following if we were."""
        if self._rows is not None:
            for i in range(self._scanned, len(self._events)):
                if self._filter.matches(self._events[i]):
                    self._rows.append(i)
            self._scanned = len(self._events)
        if force_follow:
            self.following = True
        if not self._flush_due:
            self._flush_due = True
            self.call_next(self._flush)

    def _flush(self) -> None:
        """What every `sync()` since the last flush asked for, once."""
        self._flush_due = False
        size = Size(self.scrollable_content_region.width, self.row_count)
        if size != self.virtual_size:
            # Not `self.virtual_size = size`: that layout reactive re-lays out the screen.
            # _scroll_update shows/sizes the scrollbar and clamps the scroll offsets; a
            # scrollbar appearing is itself a layout reactive, so that rare case still lays out.
            self.set_reactive(Timeline.virtual_size, size)
            self._scroll_update(size)
        if self.following:
            self._to_bottom()
        self.refresh()
        self.post_message(TimelineChanged(self))

    def _to_bottom(self) -> None:
        if self.following:
            bottom = max(0, self.row_count - self.scrollable_content_region.height)
            self.scroll_to(y=bottom, animate=False, immediate=True)

    def follow(self) -> None:
        self.following = True
        self.sync()

    # -- scrolling ------------------------------------------------------------------

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        at_bottom = new >= self.max_scroll_y
        if at_bottom != self.following:
            self.following = at_bottom
        self.post_message(TimelineChanged(self))

    def on_resize(self) -> None:
        self._cache.clear()
        self.sync()

    def notify_style_update(self) -> None:
        # A theme switch (or any restyle) changes every row's colours: draw them again, as Log does.
        super().notify_style_update()
        self._cache.clear()

    # -- drawing --------------------------------------------------------------------

    def visible_events(self) -> list[tuple[Event, bool]]:
        """The (event, pending) of each row now on screen, top to bottom."""
        top = int(self.scroll_y)
        rows = range(top, min(top + self.scrollable_content_region.height, self.row_count))
        return [found for r in rows if (found := self._event_at(r)) is not None]

    def time_of(self, e: Event) -> str:
        try:
            return self._localize(e.when).strftime("%H:%M")
        except ValueError:
            return "--:--"

    def _event_at(self, row: int) -> tuple[Event, bool] | None:
        shown = self._shown()
        if row < shown:
            idx = row if self._rows is None else self._rows[row]
            return self._events[idx], False
        row -= shown
        if 0 <= row < len(self._pending):
            return self._pending[row], True
        return None

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        row = int(self.scroll_y) + y
        if self.row_count == 0 and y == 0:
            msg = "no entries match the filter (F5 to change it)" if self._filter else "no entries yet"
            return self._strip(Text(msg, style=self.get_component_rich_style("timeline--empty")), width)
        key = (row, width)
        strip = self._cache.get(key)
        if strip is None:
            found = self._event_at(row)
            if found is None:
                return Strip.blank(width, self.rich_style)
            event, pending = found
            strip = self._strip(self._line(event, pending), width)
            if not pending:
                self._cache.set(key, strip)
        return strip

    def _strip(self, text: Text, width: int) -> Strip:
        return text_strip(text, width, self.rich_style, self.app.console)

    def _line(self, e: Event, pending: bool) -> Text:
        style = self.get_component_rich_style
        when = self.time_of(e)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(when, style("timeline--time"))
        text.append(" ")
        author = safe_text(e.author, AUTHOR_WIDTH, oneline=True)
        text.append(f"{author:<{AUTHOR_WIDTH}.{AUTHOR_WIDTH}}", style("timeline--author"))
        text.append(" ")
        line = safe_text(body(e), 1000, oneline=True)
        if pending:
            # Marked in the marker column, so a long line cannot truncate the mark away.
            text.append(f"{'⇡' + marker(e)[: MARKER_WIDTH - 1]:<{MARKER_WIDTH}}", style("timeline--pending"))
            text.append(" ")
            text.append(line, style("timeline--pending"))
        else:
            text.append(f"{marker(e):<{MARKER_WIDTH}}", self._marker_style(e))
            text.append(" ")
            text.append(line, self._body_style(e))
        return text

    def _marker_style(self, e: Event) -> Style:
        return self.get_component_rich_style(f"timeline--{view(e.kind).marker_class}")

    def _body_style(self, e: Event) -> Style:
        cls = view(e.kind).body_class
        return Style() if cls is None else self.get_component_rich_style(f"timeline--{cls}")
