"""The command bar: a composer for one line of the command language, with history and completion.

Real notes are longer than a terminal is wide, so the bar is a soft-wrapping text area
that grows with its text up to a third of the screen (then scrolls). Enter submits;
shift+enter (where the terminal sends it) or ctrl+j puts a newline in the entry. Up and
Down walk the history only from the first or last row, so a long entry can be edited.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import TextArea

from ...domain.fold import IncidentState
from ..completion import complete

PLACEHOLDER = "type a note, or /command … (Tab completes, ↑↓ history, ctrl+j new line)"
# The cursor stops blinking (and stays shown) this long after the last key, as GTK's does:
# a blink is a repaint twice a second, and most windows in a war room only watch.
BLINK_SECONDS = 10.0


class CommandBar(TextArea, inherit_bindings=False):
    """Enter submits (the screen decides what to do); the text stays until the store acknowledges it."""

    DEFAULT_CSS = """
    CommandBar {
        height: auto;
        min-height: 1;
        max-height: 33vh;
        border: none;
        padding: 0 1;
        background: $boost;
        scrollbar-size-vertical: 1;
    }
    CommandBar:focus { border: none; background: $primary-muted; }
    CommandBar.-busy { color: $text-muted; }
    """
    # TextArea's own keys, less those the screens own: F6/F7 (it selects a line / all with
    # them), PageUp/PageDown (the timeline scrolls with them while the bar keeps focus) and
    # Up/Down (bound below: rows inside the entry, then the history).
    BINDINGS: ClassVar[list[BindingType]] = [
        b
        for b in TextArea.BINDINGS
        if isinstance(b, Binding) and not {"f6", "f7", "pageup", "pagedown", "up", "down"} & set(b.key.split(","))
    ] + [
        # Tab would otherwise move focus; Up/Down walk the history from the first/last row.
        Binding("tab", "complete", "Complete", show=False, id="command_bar.complete"),
        Binding("up", "history(-1)", "Previous line", show=False, id="command_bar.history_prev"),
        Binding("down", "history(1)", "Next line", show=False, id="command_bar.history_next"),
        Binding("shift+enter,ctrl+j", "newline", "New line", show=False, id="command_bar.newline"),
    ]

    class Submitted(Message):
        """Enter: the whole text, for the screen to parse and write."""

        def __init__(self, bar: CommandBar, value: str) -> None:
            super().__init__()
            self.bar = bar
            self.value = value

        @property
        def control(self) -> CommandBar:
            return self.bar

    class Hint(Message):
        """Something to show under the bar: completion candidates or a usage line."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(
        self,
        history: list[str],
        state: Callable[[], IncidentState | None],
        people: Callable[[], list[str]] = list,
        **kw,
    ) -> None:
        super().__init__(
            soft_wrap=True,
            tab_behavior="focus",  # Tab is ours (completion), bound above
            show_line_numbers=False,
            compact=True,
            highlight_cursor_line=False,
            placeholder=PLACEHOLDER,
            **kw,
        )
        self._history = history  # shared by every bar in the app, oldest first
        self._state = state
        self._people = people
        self._pos: int | None = None  # index into history while walking it
        self._stash = ""  # what was typed before walking the history
        self._rows = 1  # wrapped rows of the text when the bar was last laid out
        self._stilled = False  # the blinking was stopped here (not by whoever set cursor_blink)
        self._last_key = 0.0

    def on_mount(self) -> None:
        self._last_key = time.monotonic()
        self.set_timer(BLINK_SECONDS, self._still)

    def _still(self) -> None:
        """No key for BLINK_SECONDS: a steady cursor; a key starts the blinking again."""
        left = self._last_key + BLINK_SECONDS - time.monotonic()
        if left > 0.02:  # not less: Textual's one-shot timer drops a tick overdue when it first looks
            self.set_timer(left, self._still)
        elif self.cursor_blink:  # not if blinking is off anyway (the tests turn it off)
            self._stilled = True
            self.cursor_blink = False

    # -- the Input-like surface the screen and tests use ---------------------------

    @property
    def value(self) -> str:
        return self.text

    @value.setter
    def value(self, text: str) -> None:
        self.load_text(text)
        self.move_cursor(self.document.end)

    @property
    def cursor_position(self) -> int:
        row, col = self.cursor_location
        lines = self.document.lines
        return sum(len(line) + 1 for line in lines[:row]) + col

    @cursor_position.setter
    def cursor_position(self, offset: int) -> None:
        offset = max(0, min(offset, len(self.text)))
        before = self.text[:offset]
        row = before.count("\n")
        self.move_cursor((row, offset - (before.rfind("\n") + 1)))

    def select_everything(self) -> None:
        """Select the whole text, so the next key typed replaces it (a refused line)."""
        self.select_all()

    # -- events --------------------------------------------------------------------

    def _on_text_area_changed(self, event: TextArea.Changed) -> None:
        # Height follows the wrapped text (auto, capped by max-height): lay the screen out
        # again only when the number of rows changed, not for every key (a layout pass of
        # the whole screen per key was most of the key-to-screen time).
        # The message goes on up: the screen saves the draft and shows usage from it.
        if self.wrap_width and self.wrapped_document._width != self.wrap_width:
            # Seen in tmux: the first text typed after start did not wrap (the document had
            # been wrapped before the bar had its width, and no resize came after).
            self._rewrap_and_refresh_virtual_size()
        rows = self.wrapped_document.height
        if rows != self._rows:
            self._rows = rows
            self.refresh(layout=True)

    async def _on_key(self, event: events.Key) -> None:
        self._last_key = time.monotonic()
        if self._stilled:
            self._stilled = False
            self.cursor_blink = True
            self.set_timer(BLINK_SECONDS, self._still)
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            text = self.text
            if text.strip():
                # Emptied in the same step as the key: the keys after Enter (a paste, a burst over
                # SSH, a fast typist) start the next line instead of running on from this one. The
                # screen gives back a line it refuses.
                self.text = ""
            self.post_message(self.Submitted(self, text))
            return
        await super()._on_key(event)

    def action_newline(self) -> None:
        start, end = self.selection
        self.replace("\n", start, end, maintain_selection_offset=False)

    def action_complete(self) -> None:
        # Keys typed in the same burst as Tab (a fast typist over SSH) may still be queued
        # for this bar while the binding already runs: complete after they land.
        self.call_later(self._complete)

    def _complete(self) -> None:
        new, found = complete(self.value, self._state(), self._people())
        if new != self.value:
            self.value = new
        if len(found) > 1:
            self.post_message(self.Hint("  ".join(found[:20])))

    def action_history(self, step: int) -> None:
        # Inside a wrapped entry, Up/Down move between its rows; at its first/last row they
        # walk the history as a one-line bar would.
        if self._pos is None:
            if step < 0 and not self._on_first_row():
                self.action_cursor_up()
                return
            if step > 0 and not self._on_last_row():
                self.action_cursor_down()
                return
        if not self._history:
            return
        if self._pos is None:
            if step > 0:
                return
            self._stash = self.value
            self._pos = len(self._history)
        self._pos += step
        if self._pos >= len(self._history):
            self._pos = None
            self.value = self._stash
        else:
            self._pos = max(self._pos, 0)
            self.value = self._history[self._pos]

    def _on_first_row(self) -> bool:
        return self.wrapped_document.location_to_offset(self.cursor_location).y == 0

    def _on_last_row(self) -> bool:
        return self.wrapped_document.location_to_offset(self.cursor_location).y >= self.wrapped_document.height - 1

    def remember(self, line: str) -> None:
        if not self._history or self._history[-1] != line:
            self._history.append(line)
        self._pos = None
