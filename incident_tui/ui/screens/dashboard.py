"""One incident's war room: header, panes, the timeline and the command bar."""

from __future__ import annotations

import random
import time
from bisect import bisect_left
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Footer, Static, TextArea

from ...domain.commands import COMMANDS, CommandError, to_events
from ...domain.events import Event
from ...domain.fold import IncidentState
from ...domain.notices import reminders
from ...domain.text import safe_text
from ..messages import ExportDocuments, ShowDocument, SubmitLine
from ..widgets.checklist import ChecklistPane
from ..widgets.command_bar import CommandBar
from ..widgets.followups import FollowupsPane
from ..widgets.header import IncidentHeader
from ..widgets.roles import RolesPane
from ..widgets.summary_strip import SummaryStrip
from ..widgets.timeline import Timeline, TimelineChanged, TimelineFilter

if TYPE_CHECKING:
    from ..room import Room

DRAFT_SAVE_DELAY = 0.3
# Grouped so the footer fits 80 columns: "f8f9 Docs".
DOCS = Binding.Group("Docs", compact=True)


TICK_SECONDS = 1.0  # the header clocks (elapsed, next update due)
# Others' events redraw the screen about this often: the first at once, the rest of a
# stream together at the end of the interval (10 events/s: 1 frame, not 10). A frame of a
# following dashboard costs ~10-13 ms of a core at 120x40 (bench_follow at 10 events/s:
# 7.8% of a core at 0.25 s, 5.0% at 0.5 s, 4.0% at 1 s), and 25 SSH sessions share 2
# cores: bench_ssh, same hour, quiet box, the commander's key-to-screen p99 with 25
# sessions following 10 events/s was 156 ms at 0.5 s and 58 ms at 1 s. A line typed here
# is drawn at once; others' lines wait at most this long.
LIVE_REDRAW_SECONDS = 1.0
# Every session sees the same stream at the same moment: with one interval they would all
# redraw together, a burst of 25 frames that a key typed meanwhile waits behind. Each wait
# is drawn from +-LIVE_REDRAW_SPREAD of the interval, so the frames spread over it.
LIVE_REDRAW_SPREAD = 0.4
MIN_TIMER_SECONDS = 0.02  # below this a redraw is done at once (see state_changed)


def _header_key(state: IncidentState, link: str, pending: int) -> tuple:
    return (
        state.severity,
        state.phase,
        state.title,
        state.last_update_at,
        state.resolved_at,
        link,
        pending,
        state.alert_counts(),
    )


def _panes_key(state: IncidentState) -> tuple:
    marks = tuple((k, m.done, m.by) for k, m in state.checklist.items())
    return (
        state.phase,
        tuple((r, tuple(h)) for r, h in state.roles.items()),
        marks,
        tuple(h.status for h in state.hypotheses),
        tuple((f.done, f.owner, f.due) for f in state.followups),
    )


class DashboardScreen(Screen[None]):
    CSS_PATH = "dashboard.tcss"
    # Below 100 columns the side panes give way to a two-line summary strip (F10 swaps them in).
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (100, "-wide")]
    # A short window keeps the header, the timeline and the command bar: the summary strip,
    # the status line and the footer go first (the bar must stay to the smallest size).
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-short"), (14, "-tall")]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f5", "filter", "Filter", id="dashboard.filter"),
        Binding("f6", "assign", "Role", id="dashboard.assign"),
        Binding("f7", "check", "Tick", id="dashboard.check"),
        Binding("f8", "snapshot", "Snapshot", id="dashboard.snapshot", group=DOCS),
        Binding("f9", "postmortem", "Postmortem", id="dashboard.postmortem", group=DOCS),
        Binding("f10", "panes", "Side", id="dashboard.panes"),
        Binding("ctrl+s", "export", "Export docs", show=False, id="dashboard.export"),
        Binding("pageup", "page(-1)", "Scroll up", show=False, id="dashboard.page_up"),
        Binding("pagedown", "page(1)", "Scroll down", show=False, id="dashboard.page_down"),
        Binding("ctrl+g", "follow", "Follow live", show=False, id="dashboard.follow"),
        Binding("ctrl+r", "read", "Read lines in full", show=False, id="dashboard.read"),
    ]

    def __init__(self, incident: str, room: Room) -> None:
        super().__init__()
        self.incident = incident
        self.room = room
        self._dirty = False
        self._in_flight: str | None = None  # the line the store is writing
        # Lines entered while one is being written, sent in order after it: the bar is free at
        # once (typing on used to run on from the line in flight: `/sev 1` glued to the next).
        self._waiting: list[str] = []
        self._given_back: str | None = None  # the text _give_back put in the bar
        self._draft_timer = None
        self._keys: dict[str, object] = {}  # what each part was last drawn from
        self._said_queued = False  # the hint says a line is queued (cleared when the link is back)
        self._typed = ""  # the bar's text, kept here too: on exit the widgets may already be gone
        self._drawn_at = float("-inf")  # monotonic time of the last redraw
        self._redraw_timer = None  # a redraw waiting for the end of the interval

    @property
    def state(self) -> IncidentState:
        assert self.room.registry is not None  # a dashboard opens only once the store is folded
        return self.room.registry.incidents[self.incident]

    @property
    def bar(self) -> CommandBar:
        return self.query_one(CommandBar)

    @property
    def timeline(self) -> Timeline:
        return self.query_one(Timeline)

    def compose(self) -> ComposeResult:
        state = self.state
        yield IncidentHeader()
        yield Static(id="notify-line")
        yield SummaryStrip()
        with Horizontal(id="body"):
            yield Timeline(state.timeline, local_tz=self.room.localize, label=self._label)
            with VerticalScroll(id="side", can_focus=False):
                yield RolesPane()
                yield ChecklistPane()
                yield FollowupsPane()
        yield Static(id="tl-status")
        yield CommandBar(self.room.history, self._current_state, self.room.people)
        yield Static(id="hint")
        yield Footer(compact=True, show_command_palette=False)

    def _current_state(self) -> IncidentState | None:
        return self.room.registry.incidents.get(self.incident) if self.room.registry else None

    def _label(self, e: Event) -> str | None:
        """H/F numbers in the timeline's kind column: the scribe at 80 columns reads them there."""
        kind = e.kind
        if kind in ("hypothesis.confirmed", "hypothesis.rejected"):
            return f"H{e.data.get('number')}{'✓' if kind.endswith('confirmed') else '✗'}"
        if kind == "followup.done":
            return f"F{e.data.get('number')}✓"
        if kind not in ("hypothesis", "followup") or e.seq is None:
            return None
        items = self.state.hypotheses if kind == "hypothesis" else self.state.followups
        i = bisect_left([x.seq for x in items], e.seq) if len(items) > 64 else None
        found = items[i] if i is not None and i < len(items) else next((x for x in items if x.seq == e.seq), None)
        if found is None or found.seq != e.seq:
            return None
        return f"{'H' if kind == 'hypothesis' else 'F'}{found.number}"

    def on_mount(self) -> None:
        self.sub_title = self.state.ref
        draft = self.room.drafts.load(self.incident) if self.room.drafts else ""
        if draft:
            self._typed = draft
            self.bar.value = draft
            self.bar.cursor_position = len(draft)
            self.show_hint(f"restored your unsent line from last time ({len(draft)} characters)", "ok")
        else:
            self.show_hint(self._usage(""))
        self.refresh_state()
        self.bar.focus()
        self.set_interval(TICK_SECONDS, self.tick)

    def on_screen_resume(self) -> None:
        if self._dirty:
            self.refresh_state()
        self.show_status()
        self.bar.focus()

    # -- state in ---------------------------------------------------------------

    def link_changed(self, link: str, pending: int) -> None:
        """A hint that said lines were queued is stale once the server has them all."""
        if self._said_queued and link == "connected" and not pending:
            self._said_queued = False
            if self.is_mounted:
                self.show_hint("link back: every queued line reached the server", "ok")

    def state_changed(self, live: bool = False) -> None:
        """The app folded new events into this incident (or the link/outbox changed).

        `live`: others' events, which may come in a stream: redrawn about once per
        LIVE_REDRAW_SECONDS, spread (the fold itself is already current: commands read it)."""
        # Events can arrive between switch_screen and the end of compose: on_mount draws them.
        if not (self.is_current and self.is_mounted):
            self._dirty = True
            return
        if live:
            if self._redraw_timer is not None:
                return  # already on its way
            wait = self._drawn_at + LIVE_REDRAW_SECONDS - time.monotonic()
            if wait > 0:
                wait += LIVE_REDRAW_SECONDS * random.uniform(-LIVE_REDRAW_SPREAD, LIVE_REDRAW_SPREAD)
            # Never a timer of (almost) no delay: Textual's one-shot timer skips a tick already
            # overdue when it first looks (a 0 s one dies dividing by zero), and the redraw it
            # was to bring would never come; every later event would wait behind it.
            if wait > MIN_TIMER_SECONDS:
                self._redraw_timer = self.set_timer(wait, self._redraw_due)
                return
        self.refresh_state()

    def _redraw_due(self) -> None:
        self._redraw_timer = None
        self.state_changed()

    def refresh_state(self) -> None:
        """Redraw what changed. A note (most events) changes only the timeline: the panes are
        redrawn only when their own inputs differ, so a busy incident keeps typing snappy."""
        self._dirty = False
        self._drawn_at = time.monotonic()
        if self._redraw_timer is not None:  # this redraw is the one it waited for
            self._redraw_timer.stop()
            self._redraw_timer = None
        try:
            self._draw()
        except NoMatches:
            # Widgets nested in containers (timeline, panes) finish mounting after the screen's
            # own Mount; seen under load with a 100k-event incident. Draw everything once they exist.
            self._keys.clear()
            self.call_after_refresh(self.refresh_state)

    def _draw(self) -> None:
        state = self.state
        link, pending = self.room.link, len(self.room.pending)
        server = self.room.server
        if self._changed_since("header", (_header_key(state, link, pending), server)):
            self.query_one(IncidentHeader).show(state, self.room.now(), link, pending, server)
        self._draw_notices(state)
        if self._changed_since("panes", _panes_key(state)):
            self.query_one(SummaryStrip).show(state, self.room.runbooks)
            self.query_one(RolesPane).show(state)
            self.query_one(ChecklistPane).show(state, self.room.runbooks)
            self.query_one(FollowupsPane).show(state)
        timeline = self.timeline
        timeline.set_pending([e for e in self.room.pending if e.incident == self.incident])
        timeline.sync()
        timeline.flush()  # now, so the status line below is redrawn in the same frame
        self.show_status()

    def _draw_notices(self, state: IncidentState) -> None:
        """A line of its own under the header (at 80 columns the header has no room left):
        serve failing to deliver notifications, and the no-commander reminder (SPEC 11; an
        overdue status update is already the header's countdown)."""
        parts = [f"⚠ {self.room.notify_trouble}"] if self.room.notify_trouble else []
        due = reminders(state, self.room.now(), self.room.no_commander_minutes)
        parts += [f"⏰ {r.text}" for r in due if r.kind == "no-commander"]
        text = "   ".join(parts)
        if self._changed_since("notices", text):
            line = self.query_one("#notify-line", Static)
            line.display = bool(text)
            line.update(Text(safe_text(text, 400, oneline=True)))  # a destination's error quotes the far end

    def _changed_since(self, part: str, key: object) -> bool:
        if self._keys.get(part) == key:
            return False
        self._keys[part] = key
        return True

    def tick(self) -> None:
        """Once a second (this screen's own timer): the clocks move even when nothing happens."""
        if not self.is_current:
            return
        try:
            header = self.query_one(IncidentHeader)
        except NoMatches:  # still composing: on_mount draws it
            return
        header.tick(self.state, self.room.now(), self.room.link, len(self.room.pending), self.room.server)
        self._draw_notices(self.state)

    @on(TimelineChanged)
    def _timeline_changed(self) -> None:
        self.show_status()

    def show_status(self) -> None:
        """The line under the timeline: filter, count, following or what waits below, other open incidents."""
        tl = self.timeline
        status = self.query_one("#tl-status", Static)
        parts = [f"{tl.row_count} entries"]
        if tl.filter:
            parts.insert(0, f"filter {safe_text(tl.filter.source, 40, oneline=True)} (F5)")
        below = tl.new_below
        parts.append(f"▼ {below} new below: PgDn or ctrl+g" if below else "following live")
        parts.append("ctrl+r reads in full")
        others = [ref for ref in self.room.open_refs() if ref != self.state.ref]
        if others:
            parts.append(f"also open: {' '.join(others)} (F3/F4)")
        text = " · ".join(parts)
        if not self._changed_since("status", (text, bool(below))):
            return  # a scroll or a flush that changed nothing here: no repaint
        status.set_class(bool(below), "-waiting")
        # One fixed row: no layout pass (a reflow of the whole screen for every arriving event).
        status.update(Text(text, no_wrap=True, overflow="ellipsis"), layout=False)

    # -- the command bar ----------------------------------------------------------

    def show_hint(self, text: str, kind: str = "") -> None:
        try:
            hint = self.query_one("#hint", Static)
        except NoMatches:  # closing: nobody is left to read it
            return
        hint.set_classes(f"-{kind}" if kind else "")
        hint.update(Text(safe_text(text, 400, oneline=True), no_wrap=True, overflow="ellipsis"), layout=False)

    @on(CommandBar.Hint)
    def _bar_hint(self, message: CommandBar.Hint) -> None:
        self.show_hint(message.text)

    @on(TextArea.Changed, "CommandBar")
    def _changed(self, event: TextArea.Changed) -> None:
        value = event.text_area.text
        self._typed = value
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.set_timer(DRAFT_SAVE_DELAY, self.save_draft)
        if value == self._given_back:  # a refused line put back: its reason stays in view
            self._given_back = None
        elif value:  # an emptied bar keeps the last word ("logged …") in view
            self.show_hint(self._usage(value))

    def _usage(self, value: str) -> str:
        text = value.lstrip()
        if text.startswith("@"):
            text = text.partition(" ")[2].lstrip()
        if text.startswith("/") and not text.startswith("//"):
            name = text[1:].split(" ", 1)[0].lower()
            spec = COMMANDS.get(name)
            if spec:
                return f"{spec.usage}: {spec.help}"
            found = [f"/{c}" for c in COMMANDS if c.startswith(name)]
            return "  ".join(found) if found else "unknown command: Tab lists them"
        return "Enter logs a note · /command for more (Tab completes) · @14:02 back-dates"

    def _current_text(self) -> str:
        """The bar's text: read from the widget while it exists (the freshest), else the copy."""
        bar = self._bar_if_shown()
        return self._typed if bar is None else bar.value  # unmounting: the widgets go, the copy stays

    def save_draft(self) -> None:
        if self.room.drafts is not None:
            try:  # lines waiting to be sent are unsent text too: kept with the bar's
                self.room.drafts.save(self.incident, "\n".join([*self._waiting, self._current_text()]).strip("\n"))
            except OSError as exc:
                self.show_hint(f"could not save your draft: {exc}", "error")

    @on(CommandBar.Submitted)
    def _submitted(self, event: CommandBar.Submitted) -> None:
        event.stop()
        line = event.value
        if not line.strip():
            return
        # Behind the lines already waiting too: between an acknowledgement and the moment
        # the next waiting line is sent, a fresh line must not overtake it (seen in a suite run).
        if self._in_flight is not None or self._waiting:
            self._waiting.append(line)
            if self._in_flight is None:
                self.call_after_refresh(self._next_waiting)
            self.show_hint(f"waiting to write {len(self._waiting)} line(s) after the one being written…")
        elif not self._send(line):
            self._give_back(line, [])  # refused as typed: back in the bar (the bar emptied itself), selected
            return
        self.save_draft()

    def _send(self, line: str) -> bool:
        if not self.submit_line(line):
            return False
        self._in_flight = line
        self.bar.add_class("-busy")
        return True

    def _next_waiting(self) -> None:
        while self._waiting and self._in_flight is None:
            line = self._waiting.pop(0)
            if not self._send(line):
                waiting, self._waiting = self._waiting, []
                self._give_back(line, waiting)
                return

    def submit_line(self, line: str) -> bool:
        """Turn a line into events and hand them to the store; False if refused."""
        try:
            events = to_events(line, self.state, self.room.user, self.room.runbooks)
        except CommandError as exc:
            self.show_hint(str(exc), "error")
            self._refused(line)
            return False
        self.post_message(SubmitLine(self.incident, line, events))
        return True

    def _bar_if_shown(self) -> CommandBar | None:
        """The bar, or None while the screen is taken down: an acknowledgement or a refusal
        can arrive after the widgets are gone (quit right after Enter), and must not crash."""
        try:
            return self.bar
        except NoMatches:
            return None

    def line_appended(self, line: str, stored: list[Event]) -> None:
        bar = self._bar_if_shown()
        if line == self._in_flight:
            self._in_flight = None
            self.save_draft()
            if bar is None:
                return
            bar.remove_class("-busy")
            bar.remember(line)
            self.call_after_refresh(self._next_waiting)
        if bar is None:
            return
        queued = [e for e in stored if e.seq is None]
        kinds = ", ".join(dict.fromkeys(e.kind for e in stored))
        self._said_queued = bool(queued)
        if queued:
            self.show_hint(f"queued {kinds}: the server is unreachable; it will be sent when the link is back", "ok")
        else:
            self.show_hint(f"logged {kinds} (seq {stored[-1].seq})", "ok")

    def line_refused(self, line: str, reason: str) -> None:
        bar = self._bar_if_shown()
        if line == self._in_flight:
            self._in_flight = None
        waiting, self._waiting = self._waiting, []
        if bar is None:  # closing: the refused text is kept as the draft, for the next start
            self._typed = "\n".join([line, *waiting, *([self._typed] if self._typed.strip() else [])])
            self.save_draft()
            return
        bar.remove_class("-busy")
        self._give_back(line, waiting)
        self.show_hint(f"not written: {reason} (your text is kept)", "error")

    def _give_back(self, line: str, waiting: list[str]) -> None:
        """A line the store or the parser refused, and the lines entered behind it: back in
        the bar for editing (with whatever was typed since after them), nothing dropped."""
        current = self._current_text()
        self.bar.value = self._given_back = "\n".join([line, *waiting, *([current] if current.strip() else [])])
        self._typed = self.bar.value
        self.save_draft()
        self._refused(self.bar.value)

    def _refused(self, line: str) -> None:
        """A refused line stays for editing, selected: the next key typed replaces it rather
        than running on from its end (`/sev 0` then `/confirm H9` made `/sev 0/confirm H9`)."""
        bar = self.bar
        if bar.value == line:
            bar.select_everything()

    # -- actions -----------------------------------------------------------------

    def action_page(self, direction: int) -> None:
        tl = self.timeline
        if direction < 0:
            tl.scroll_page_up(animate=False)
        else:
            tl.scroll_page_down(animate=False)

    def action_read(self) -> None:
        from .reader import ReaderScreen, full_text

        rows = self.timeline.visible_events()
        self.app.push_screen(ReaderScreen(full_text(rows, [self.timeline.time_of(e) for e, _ in rows])))

    def action_follow(self) -> None:
        self.timeline.follow()

    def action_panes(self) -> None:
        self.toggle_class("-panes")

    def action_filter(self) -> None:
        from .forms import FilterScreen

        def done(text: str | None) -> None:
            if text is not None:
                self.timeline.set_filter(TimelineFilter.parse(text))

        self.app.push_screen(FilterScreen(self.timeline.filter.source), done)

    def action_assign(self) -> None:
        from .forms import AssignScreen

        self.app.push_screen(AssignScreen(self.state, self.room.people()), self._form_line)

    def action_check(self) -> None:
        from .forms import CheckScreen

        self.app.push_screen(CheckScreen(self.state, self.room.runbooks), self._form_line)

    def _form_line(self, line: str | None) -> None:
        if line:
            self.submit_line(line)

    def action_snapshot(self) -> None:
        self.post_message(ShowDocument(self.incident, "snapshot"))

    def action_postmortem(self) -> None:
        self.post_message(ShowDocument(self.incident, "postmortem"))

    def action_export(self) -> None:
        self.post_message(ExportDocuments(self.incident))
