"""The incident timeline: a Line API ScrollView that reads like a chat log.

Rows are events, in the order they happened (`at`), not the order they were typed: a
back-dated entry sits where it belongs and is marked ↶ beside its time. Each row wraps
to the width under a hanging gutter (time, author, kind), and a date line opens every
day. It stays a virtualized widget: only the rows on screen are ever rendered.

- Order: one string key per event (its `at` in the one wire form), kept in display
  order; an event that arrives earlier than the latest is bisected into place. Until
  the first such event the display order is the fold's list itself (no copy).
- Heights, read lazily: a row not yet drawn counts one line. A Fenwick tree over the
  rows holds each measured row's extra lines, so "which row is line y" and "where does
  row r start" cost O(log n) whatever the incident's size; a resize or a filter just
  forgets the measurements (rewrap lazily) and measures the rows it shows.
- Scrolling stays put: measuring rows above the top (scrolling up) moves the scroll
  offset by what they grew, so the line at the top stays at the top.

A line the store has only queued (remote store, offline) shows ⇡ in its kind column,
dimmed, until the server acknowledges it. `WRAP = False` draws today's cut rows (one
line each, … at the edge): the benchmark's baseline.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from math import ceil
from typing import ClassVar

from rich.console import RenderableType
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar
from textual.strip import Strip

from ...domain.events import Event, at_ms
from ...domain.text import safe_text
from ..describe import body, marker, tags, view
from .strips import text_strip

AUTHOR_WIDTH = 10
MARKER_WIDTH = 5
# time (5), back-dated mark (1), space, author, space, kind, space: continuation lines hang under the text.
GUTTER = 5 + 1 + 1 + AUTHOR_WIDTH + 1 + MARKER_WIDTH + 1
# Below this width the author moves from the gutter to the start of the text ("bob: …"),
# so a 40-column window keeps 25 columns of text instead of 15.
NARROW = 60
NARROW_GUTTER = 5 + 1 + 1 + MARKER_WIDTH + 1
BODY_LIMIT = 64 * 1024
_CACHE_ROWS = 2000
BACKDATED_MARK = "↶"


_FIRST = -(1 << 62)  # below every at_ms


def _ascending(keys: Sequence[int]) -> bool:
    as_list = list(keys)
    return as_list == sorted(as_list)  # in C: ~20 ms for a million


class _Heights:
    """Extra lines (height - 1) per row in a Fenwick tree; an unmeasured row adds none."""

    def __init__(self) -> None:
        self._tree = [0]
        self._known: list[int] = []  # measured height per row, 0 = not measured
        self._measured = 0

    def __len__(self) -> int:
        return len(self._known)

    def reset(self, n: int) -> None:
        self._tree = [0] * (n + 1)
        self._known = [0] * n
        self._measured = 0

    def grow(self, n: int) -> None:
        old = len(self._known)
        if n <= old:
            return
        self._known.extend([0] * (n - old))
        if not self._measured:
            self._tree.extend([0] * (n - old))
            return
        tree = self._tree
        for i in range(old + 1, n + 1):  # node i covers rows (i - lowbit(i), i]: only older rows count
            low = i - (i & -i)
            tree.append(self._prefix(i - 1) - self._prefix(low))

    def forget_from(self, row: int) -> None:
        """Rows from `row` on are unmeasured again (their content moved)."""
        for r in range(row, len(self._known)):
            if self._known[r]:
                self.set(r, 0)

    def height(self, row: int) -> int:
        return self._known[row]

    def set(self, row: int, height: int) -> None:
        known = self._known[row]
        delta = (height - 1 if height else 0) - (known - 1 if known else 0)
        if bool(height) != bool(known):
            self._measured += 1 if height else -1
        self._known[row] = height
        if delta:
            i, tree, n = row + 1, self._tree, len(self._known)
            while i <= n:
                tree[i] += delta
                i += i & -i

    def _prefix(self, i: int) -> int:
        total, tree = 0, self._tree
        while i > 0:
            total += tree[i]
            i -= i & -i
        return total

    def start(self, row: int) -> int:
        """The first line of `row` (rows before it: one line each plus their extras)."""
        return row + self._prefix(row)

    def total(self) -> int:
        return self.start(len(self._known))

    def find(self, line: int) -> int:
        """The row that holds `line` (len(self) past the end)."""
        n, tree = len(self._known), self._tree
        pos = acc = 0
        step = 1 << n.bit_length()
        while step:
            nxt = pos + step
            if nxt <= n and nxt + acc + tree[nxt] <= line:
                pos = nxt
                acc += tree[nxt]
            step >>= 1
        return pos


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


class _ThumbScrollBar(ScrollBar):
    """The timeline's vertical scrollbar, repainted only when what it draws changes.

    Every arriving row changes the scrollable height and the scroll offset, and Textual
    repaints the bar for each (two Rich renders of the whole column); the thumb, drawn in
    eighths of a cell, moves far less often once the log is longer than a few screens."""

    _drawn: tuple | None = None

    def _look(self) -> tuple:
        """What the bar shows: its box, the thumb's ends in eighths (as ScrollBarRender
        computes them), and the hover/drag state that picks its colours."""
        size = self.size.height if self.vertical else self.size.width
        virtual = ceil(self.window_virtual_size)
        window = ceil(self.window_size if self.window_size < self.window_virtual_size else 0)
        thumb: tuple[int, int] | None = None
        if window and size and virtual and size != virtual:
            length = max(1, window / (virtual / size))
            at = (size - length) * (self.position / (virtual - window)) if virtual != window else 0.0
            start = int(at * 8)
            thumb = (start, start + ceil(length * 8))
        return (self.size, thumb, bool(self.grabbed), self.mouse_over, self.display)

    def refresh(self, *regions, repaint: bool = True, layout: bool = False, recompose: bool = False) -> ScrollBar:
        if not (regions or layout or recompose) and self._drawn is not None and self._look() == self._drawn:
            return self  # the same bar: nothing to repaint
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def render(self) -> RenderableType:
        self._drawn = self._look()
        return super().render()

    def notify_style_update(self) -> None:
        self._drawn = None  # a theme switch repaints it
        super().notify_style_update()


class TimelineChanged(Message):
    """Rows, scroll position or following changed: the status line redraws."""

    def __init__(self, timeline: Timeline) -> None:
        super().__init__()
        self.timeline = timeline


class Timeline(ScrollView, can_focus=True):
    """In time order, newest at the bottom; follows live unless scrolled up."""

    DEFAULT_CSS = """
    Timeline {
        height: 1fr;
        background: $surface;
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
    }
    Timeline > .timeline--time { color: $text-muted; }
    Timeline > .timeline--backdated { color: $warning; text-style: bold; }
    Timeline > .timeline--author { color: $accent; text-style: bold; }
    Timeline > .timeline--marker { color: $text-muted; }
    Timeline > .timeline--decision { color: $warning; text-style: bold; }
    Timeline > .timeline--action { color: $success; text-style: bold; }
    Timeline > .timeline--state { color: $primary; }
    Timeline > .timeline--alert { color: $error; text-style: bold; }
    Timeline > .timeline--pending { color: $text-muted; text-style: italic; }
    Timeline > .timeline--empty { color: $text-muted; }
    Timeline > .timeline--day { color: $text-muted; text-style: bold; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "timeline--time",
        "timeline--backdated",
        "timeline--author",
        "timeline--marker",
        "timeline--decision",
        "timeline--action",
        "timeline--state",
        "timeline--alert",
        "timeline--pending",
        "timeline--empty",
        "timeline--day",
    }
    WRAP: ClassVar[bool] = True  # False: one cut line per event (the benchmark's baseline)

    following: reactive[bool] = reactive(True)

    def __init__(
        self,
        events: Sequence[Event],
        *,
        local_tz: Callable[[datetime], datetime] | None = None,
        label: Callable[[Event], str | None] | None = None,
        **kw,
    ) -> None:
        super().__init__(**kw)
        self._events = events  # the fold's list: only ever grows, read by position
        self._pending: list[Event] = []
        self._filter = TimelineFilter()
        self._rows: list[int] | None = None  # filtered: event indexes in display order
        self._scanned = 0  # display positions examined by the filter so far
        # Display order: None while every event came in time order (position = index).
        self._order: list[int] | None = None
        self._keys = array("q")  # at_ms of each display position
        self._placed = 0  # events of the fold's list placed in display order
        self._moved: set[int] = set()  # indexes of events that came after later ones
        self._heights = _Heights()
        self._cache: LRUCache[tuple[int, int, int], list[Strip]] = LRUCache(_CACHE_ROWS)
        self._generation = 0  # bumped whenever rows change position: cached rows die with it
        self._width = 0
        self._settling = False
        self._flush_due = False
        self._flushed_shown = 0  # acknowledged rows at the last flush (queued ones follow them)
        self._localize = local_tz or (lambda dt: dt.astimezone())
        self._label = label or (lambda e: None)

    # -- data ---------------------------------------------------------------------

    @property
    def filter(self) -> TimelineFilter:
        return self._filter

    @property
    def row_count(self) -> int:
        return self._shown() + len(self._pending)

    @property
    def new_below(self) -> int:
        """Rows below the viewport (what waits below while the user reads back)."""
        if self.following:
            return 0
        last = self._heights.find(int(self.scroll_y) + self.scrollable_content_region.height - 1)
        return max(0, self.row_count - 1 - last)

    def _shown(self) -> int:
        return self._placed if self._rows is None else len(self._rows)

    def set_filter(self, flt: TimelineFilter) -> None:
        self._filter = flt
        self._rows = [] if flt else None
        self._scanned = 0
        self._relayout()
        self.sync(force_follow=True)

    def set_pending(self, pending: list[Event]) -> None:
        if pending or self._pending:
            self._heights.forget_from(self._shown())
            self._pending = pending
            self._generation += 1
            self.sync()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()  # a theme switch: rows drawn in the old colours go

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        # Widget's own, made as Widget makes it, but repainted only when it changes.
        if self._vertical_scrollbar is None:
            bar = _ThumbScrollBar(vertical=True, name="vertical", thickness=self.scrollbar_size_vertical)
            bar.display = False
            self._vertical_scrollbar = bar
            self.app._start_widget(self, bar)
        return self._vertical_scrollbar

    def _relayout(self) -> None:
        """Rows moved or the width changed: forget every measurement and drawn row."""
        self._generation += 1
        self._cache.clear()
        self._heights.reset(0)

    def _place(self) -> None:
        """Put events the fold appended since the last call into display order."""
        events, keys = self._events, self._keys
        n = len(events)
        moved_at: int | None = None
        start = self._placed
        # A timeline from the store's index comes with its rows' times: placed without
        # reading a row (a million of them took 3.3 s before the first paint, bench_scale).
        known = events.at_keys() if start == 0 and hasattr(events, "at_keys") else None
        known = () if known is None else known
        if known and _ascending(known):
            keys.frombytes(bytes(known))  # the usual case: typed in time order, nothing moves
            start = len(known)
        last = keys[-1] if keys else _FIRST
        for i in range(start, n):
            key = known[i] if i < len(known) else at_ms(events[i].at)
            if key >= last:
                keys.append(key)
                if self._order is not None:
                    self._order.append(i)
                last = key
                continue
            if self._order is None:
                self._order = list(range(i))
            pos = bisect_right(keys, key)
            keys.insert(pos, key)
            self._order.insert(pos, i)
            self._moved.add(i)
            moved_at = pos if moved_at is None else min(moved_at, pos)
        self._placed = n
        if moved_at is not None:
            # Rows from there on moved down one: measurements and the filter start again.
            self._relayout()
            if self._rows is not None:
                self._rows = []
                self._scanned = 0

    def sync(self, force_follow: bool = False) -> None:
        """Take in events the fold appended since the last call; keep following if we were."""
        self._place()
        if self._rows is not None:
            order = self._order
            for pos in range(self._scanned, self._placed):
                i = pos if order is None else order[pos]
                if self._filter.matches(self._events[i]):
                    self._rows.append(i)
            self._scanned = self._placed
        if force_follow:
            self.following = True
        # One flush per handled message, however many events or calls it brought.
        if not self._flush_due:
            self._flush_due = True
            self.call_next(self.flush)

    def flush(self) -> None:
        """Draw what `sync` took in, now rather than after the current message: an owner
        that redraws other widgets beside the timeline (the status line) gets them into
        the same frame (one screen update per arrival, not two)."""
        if self._flush_due:
            self._flush()

    def _flush(self) -> None:
        self._flush_due = False
        heights = self._heights
        if len(heights) > self.row_count:
            self._relayout()  # queued lines went (sent or dropped): measure again
        elif len(heights) > self._flushed_shown:
            # Queued lines sat after the last acknowledged row: new rows came before them.
            heights.forget_from(self._flushed_shown)
            self._generation += 1
        heights.grow(self.row_count)
        self._flushed_shown = self._shown()
        self._settle()
        self.refresh()
        self.post_message(TimelineChanged(self))

    def follow(self) -> None:
        self.following = True
        self.sync()

    # -- layout: which rows are where ----------------------------------------------

    def _text_width(self) -> int:
        return max(8, self.scrollable_content_region.width - self._gutter()) if self.WRAP else 1 << 20

    def _gutter(self) -> int:
        return NARROW_GUTTER if self._narrow() else GUTTER

    def _narrow(self) -> bool:
        return self.WRAP and self.scrollable_content_region.width < NARROW

    def _set_virtual(self) -> None:
        size = Size(self.scrollable_content_region.width, self._heights.total())
        if size != self.virtual_size:
            # Not `self.virtual_size = size`: that layout reactive re-lays out the screen.
            # _scroll_update shows/sizes the scrollbar and clamps the scroll offsets.
            self.set_reactive(Timeline.virtual_size, size)
            self._scroll_update(size)

    def _measure(self, row: int) -> int:
        heights = self._heights
        h = heights.height(row)
        if not h:
            h = len(self._row_lines(row))
            heights.set(row, h)
        return h

    def _settle(self, anchor: tuple[int, int] | None = None) -> None:
        """Measure the rows the viewport shows and scroll so that `anchor` (row, line in
        it) is at the top, or the last row at the bottom while following."""
        # Setting the virtual size clamps scroll_y, whose watcher would settle again.
        was, self._settling = self._settling, True
        try:
            self._settle_now(anchor)
        finally:
            self._settling = was
        if self.following:
            # A scroll Textual queued before the size changed can land after this one:
            # look again once the screen has refreshed.
            self.call_after_refresh(self._stick_to_bottom)

    def _settle_now(self, anchor: tuple[int, int] | None) -> None:
        heights, view = self._heights, max(1, self.scrollable_content_region.height)
        n = min(self.row_count, len(heights))  # rows placed since the last flush wait for it
        if heights and n:
            if self.following:
                lines, r = 0, n - 1
                while r >= 0 and lines < view:
                    lines += self._measure(r)
                    r -= 1
                top = max(0, heights.total() - view)
            else:
                if anchor is None:
                    y = int(self.scroll_y)
                    row = min(heights.find(y), n - 1)
                    anchor = (row, y - heights.start(row))
                row, offset = anchor
                row = max(0, min(row, n - 1))
                top = heights.start(row) + min(offset, self._measure(row) - 1)
                r, end = row, top + view
                while r < n and heights.start(r) < end:
                    self._measure(r)
                    r += 1
                top = heights.start(row) + max(0, min(offset, heights.height(row) - 1))
        else:
            top = 0
        self._set_virtual()
        top = max(0, min(top, heights.total() - view))
        self._scroll_quietly(top)

    def _scroll_quietly(self, top: int) -> None:
        if top != int(self.scroll_y):
            was, self._settling = self._settling, True
            try:
                self.scroll_to(y=top, animate=False, immediate=True)
            finally:
                self._settling = was

    def _stick_to_bottom(self) -> None:
        if self.following:
            self._scroll_quietly(max(0, self._heights.total() - max(1, self.scrollable_content_region.height)))

    # -- scrolling ------------------------------------------------------------------

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if self._settling:
            return
        heights = self._heights
        view = self.scrollable_content_region.height
        # Where the user put it decides following first: settling while "following" would
        # put the view straight back at the bottom.
        if int(new) < self.max_scroll_y and self.following:
            self.following = False
        rows = min(self.row_count, len(heights))
        if heights and 0 < int(old) - int(new) <= 2 * view and rows:
            # Up: rows above the old top may grow once measured; keep the old top's line
            # where the scroll put it, counted from that row (it is measured already).
            up = int(old) - int(new)
            row = min(heights.find(int(old)), rows - 1)
            offset = int(old) - heights.start(row)
            r, need = row - 1, up + view
            while r >= 0 and need > 0:
                need -= self._measure(r)
                r -= 1
            target = heights.start(row) + offset - up
            anchor_row = min(heights.find(max(0, target)), rows - 1)
            self._settle((anchor_row, max(0, target) - heights.start(anchor_row)))
        elif heights:
            self._settle()  # down, or a jump (Home, the scrollbar): the line asked for goes on top
        at_bottom = int(self.scroll_y) >= self.max_scroll_y
        if at_bottom != self.following:
            self.following = at_bottom
        self.post_message(TimelineChanged(self))

    def on_resize(self) -> None:
        width = self.scrollable_content_region.width
        if width != self._width:
            # A new width rewraps lazily: forget every row's height, measure what shows.
            self._width = width
            anchor = None
            if self._heights and not self.following:
                y = int(self.scroll_y)
                anchor = (min(self._heights.find(y), self.row_count - 1), 0)
            self._relayout()
            self._heights.grow(self.row_count)
            if anchor is not None:
                self._settle(anchor)
        self.sync()

    # -- rows -----------------------------------------------------------------------

    def visible_events(self) -> list[tuple[Event, bool]]:
        """The (event, pending) of each row now on screen, top to bottom."""
        heights = self._heights
        if not heights:
            return []
        top = int(self.scroll_y)
        first = heights.find(top)
        last = heights.find(top + self.scrollable_content_region.height - 1)
        rows = range(first, min(last + 1, self.row_count))
        return [found for r in rows if (found := self._event_at(r)) is not None]

    def time_of(self, e: Event) -> str:
        try:
            return self._localize(e.when).strftime("%H:%M")
        except ValueError:
            return "--:--"

    def _day(self, e: Event) -> date | None:
        try:
            return self._localize(e.when).date()
        except ValueError:
            return None

    def _event_at(self, row: int) -> tuple[Event, bool] | None:
        shown = self._shown()
        if 0 <= row < shown:
            if self._rows is not None:
                idx = self._rows[row]
            else:
                idx = row if self._order is None else self._order[row]
            return self._events[idx], False
        row -= shown
        if 0 <= row < len(self._pending):
            return self._pending[row], True
        return None

    def _backdated(self, row: int) -> bool:
        """Typed after entries that happened later: it sits above them, marked."""
        if row >= self._shown() or not self._moved:
            return False
        idx = self._rows[row] if self._rows is not None else row if self._order is None else self._order[row]
        return idx in self._moved

    def _row_lines(self, row: int) -> list[Strip]:
        width = self.scrollable_content_region.width
        key = (row, width, self._generation)
        lines = self._cache.get(key)
        if lines is not None:
            return lines
        found = self._event_at(row)
        if found is None:
            return [Strip.blank(width, self.rich_style)]
        event, pending = found
        lines = []
        if self.WRAP:
            day = self._day(event)
            before = self._event_at(row - 1) if row else None
            if day is not None and (before is None or self._day(before[0]) != day):
                lines.append(self._day_line(day, width))
        gutter, text = self._parts(event, pending, self._backdated(row))
        if not self.WRAP:
            gutter.append_text(text)
            lines.append(text_strip(gutter, width, self.rich_style, self.app.console))
        else:
            gutter_width = self._gutter()
            room = max(8, width - gutter_width)
            wrapped = text.wrap(self.app.console, room, overflow="fold") or [Text("")]
            pad = Text(" " * gutter_width)
            for i, part in enumerate(wrapped):
                line = gutter.copy() if i == 0 else pad.copy()
                line.append_text(part)
                lines.append(text_strip(line, width, self.rich_style, self.app.console))
        self._cache[key] = lines
        return lines

    def _day_line(self, day: date, width: int) -> Strip:
        label = f"── {day.strftime('%a %d %b %Y')} "
        text = Text(label + "─" * max(0, width - len(label)), style=self.get_component_rich_style("timeline--day"))
        return text_strip(text, width, self.rich_style, self.app.console)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if self.row_count == 0:
            if y == 0:
                msg = "no entries match the filter (F5 to change it)" if self._filter else "no entries yet"
                text = Text(msg, style=self.get_component_rich_style("timeline--empty"))
                return text_strip(text, width, self.rich_style, self.app.console)
            return Strip.blank(width, self.rich_style)
        heights = self._heights
        line = int(self.scroll_y) + y
        if not heights or line >= heights.total():
            return Strip.blank(width, self.rich_style)
        row = heights.find(line)
        if row >= self.row_count:
            return Strip.blank(width, self.rich_style)
        lines = self._row_lines(row)
        offset = line - heights.start(row)
        if 0 <= offset < len(lines):
            return lines[offset]
        return Strip.blank(width, self.rich_style)

    # -- one row's pieces ------------------------------------------------------------

    def _parts(self, e: Event, pending: bool, backdated: bool) -> tuple[Text, Text]:
        """The gutter (time, mark, author, kind) and the body, styled."""
        style = self.get_component_rich_style
        gutter = Text(no_wrap=True, overflow="ellipsis")
        gutter.append(self.time_of(e), style("timeline--time"))
        gutter.append(BACKDATED_MARK if backdated else " ", style("timeline--backdated"))
        gutter.append(" ")
        author = safe_text(e.author, AUTHOR_WIDTH, oneline=True)
        narrow = self._narrow()
        if not narrow:
            gutter.append(f"{author:<{AUTHOR_WIDTH}.{AUTHOR_WIDTH}}", style("timeline--author"))
            gutter.append(" ")
        mark = self._label(e) or marker(e)
        if pending:
            # Marked in the kind column, so a long line cannot push the mark away.
            gutter.append(f"{'⇡' + mark[: MARKER_WIDTH - 1]:<{MARKER_WIDTH}}", style("timeline--pending"))
            text_style = style("timeline--pending")
        else:
            gutter.append(f"{mark[:MARKER_WIDTH]:<{MARKER_WIDTH}}", self._marker_style(e))
            text_style = self._body_style(e)
        gutter.append(" ")
        raw = body(e)
        # Cut rows stay one line (newlines shown as ⏎); wrapped rows keep the writer's lines.
        shown = safe_text(raw, BODY_LIMIT, oneline=not self.WRAP).replace("\t", " ").replace("\r", "")
        text = Text(shown, style=text_style)
        if narrow:
            text = Text.assemble((f"{author}: ", style("timeline--author")), text)
        return gutter, text

    def _line(self, e: Event, pending: bool, backdated: bool = False) -> Text:
        """The row as one line of text (gutter and body), as a cut row shows it."""
        gutter, text = self._parts(e, pending, backdated)
        gutter.append_text(Text(text.plain.replace("\n", " ⏎ "), style=text.style))
        return gutter

    def _marker_style(self, e: Event) -> Style:
        return self.get_component_rich_style(f"timeline--{view(e.kind).marker_class}")

    def _body_style(self, e: Event) -> Style:
        cls = view(e.kind).body_class
        return Style() if cls is None else self.get_component_rich_style(f"timeline--{cls}")
