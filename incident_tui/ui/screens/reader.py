"""The timeline rows on screen, in full: long lines wrap here instead of ending in …"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ...domain.events import Event
from ...domain.text import safe_text
from ..describe import body, marker


def full_text(events: list[tuple[Event, bool]], when: list[str]) -> Text:
    out = Text()
    for i, ((e, pending), hhmm) in enumerate(zip(events, when, strict=True)):
        if i:
            out.append("\n\n")
        out.append(f"{hhmm} ", "dim")
        out.append(safe_text(e.author, 64, oneline=True), "bold")
        out.append(f" {marker(e) or 'note'}{' (pending)' if pending else ''}", "dim")
        out.append(f" · seq {e.seq}" if e.seq else "", "dim")
        out.append("\n")
        out.append(safe_text(body(e), 64 * 1024))
    return out


class ReaderScreen(ModalScreen[None]):
    CSS_PATH = "reader.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Back", id="reader.close"),
        Binding("ctrl+r", "dismiss", "Back", show=False, id="reader.close_again"),
        Binding("end", "end", "Last line", show=False, id="reader.end"),
        Binding("home", "home", "First line", show=False, id="reader.home"),
    ]

    def __init__(self, text: Text) -> None:
        super().__init__()
        self._text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "The lines on screen, in full · Esc back"
            yield Static(self._text)

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    def action_end(self) -> None:
        # After the pending layout: the wrapped text's height is known only then, and
        # scrolling to the end before it stopped one wrapped entry short.
        scroll = self.query_one(VerticalScroll)
        self.call_after_refresh(scroll.scroll_end, animate=False, immediate=True)

    def action_home(self) -> None:
        self.query_one(VerticalScroll).scroll_home(animate=False, immediate=True)
