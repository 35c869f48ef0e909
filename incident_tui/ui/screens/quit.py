"""ctrl+q while lines wait in the outbox: wait for the server, or leave them queued."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label


class QuitScreen(ModalScreen[str | None]):
    """Answers "wait", "leave" or None (stay). Either way nothing is lost: queued lines
    stay in the outbox file and go out the next time the app or the CLI reaches the server."""

    CSS_PATH = "quit.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("w", "answer('wait')", "Wait and quit", id="quit.wait"),
        Binding("l,q", "answer('leave')", "Leave queued", id="quit.leave"),
        Binding("escape", "answer(None)", "Stay", id="quit.stay"),
    ]

    def __init__(self, pending: int, link: str) -> None:
        super().__init__()
        self._pending = pending
        self._link = link

    def compose(self) -> ComposeResult:
        lines = "1 line has" if self._pending == 1 else f"{self._pending} lines have"
        with Vertical():
            yield Label(Text(f"{lines} not reached the server yet ({self._link})"), classes="quit-title")
            yield Label(
                Text(
                    "W  wait: quit as soon as the server has them\n"
                    "L  leave them queued: they are sent the next time incident-tui reaches the server\n"
                    "Esc  stay"
                )
            )
            yield Label(Text("Nothing typed is lost either way: the outbox is on disk."), classes="quit-help")

    def action_answer(self, answer: str | None) -> None:
        self.dismiss(answer)
