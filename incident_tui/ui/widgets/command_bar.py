"""The command bar: one line of the command language, with history and completion."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input

from ...domain.fold import IncidentState
from ..completion import complete


class CommandBar(Input):
    """Enter submits (the screen decides what to do); the text stays until the store acknowledges it."""

    DEFAULT_CSS = """
    CommandBar {
        height: 1;
        border: none;
        padding: 0 1;
        background: $boost;
    }
    CommandBar:focus { border: none; background: $primary-muted; }
    CommandBar.-busy { color: $text-muted; }
    """
    # Bound on the input itself: Tab would otherwise move focus, Up/Down do nothing.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "complete", "Complete", show=False, id="command_bar.complete"),
        Binding("up", "history(-1)", "Previous line", show=False, id="command_bar.history_prev"),
        Binding("down", "history(1)", "Next line", show=False, id="command_bar.history_next"),
    ]

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
        super().__init__(placeholder="type a note, or /command … (Tab completes, ↑↓ history)", **kw)
        self._history = history  # shared by every bar in the app, oldest first
        self._state = state
        self._people = people
        self._pos: int | None = None  # index into history while walking it
        self._stash = ""  # what was typed before walking the history

    def action_complete(self) -> None:
        # Keys typed in the same burst as Tab (a fast typist over SSH) may still be queued
        # for this input while the binding already runs: complete after they land.
        self.call_later(self._complete)

    def _complete(self) -> None:
        new, found = complete(self.value, self._state(), self._people())
        if new != self.value:
            self.value = new
            self.cursor_position = len(new)
        if len(found) > 1:
            self.post_message(self.Hint("  ".join(found[:20])))

    def action_history(self, step: int) -> None:
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
        self.cursor_position = len(self.value)

    def remember(self, line: str) -> None:
        if not self._history or self._history[-1] != line:
            self._history.append(line)
        self._pos = None
