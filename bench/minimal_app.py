"""The baseline Textual app: Header, Static, Footer (and with --input, a focused Input).

Time to first paint compares against the plain form; key-to-screen latency against the
--input form, so both figures have a floor measured the same way in the same run.
"""

from __future__ import annotations

import sys
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.widgets import Footer, Header, Input, Static


class MinimalApp(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [("ctrl+q", "quit", "Quit")]

    def __init__(self, with_input: bool = False) -> None:
        super().__init__()
        self.with_input = with_input

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("minimal app ready")
        if self.with_input:
            yield Input(placeholder="type here")
        yield Footer()


if __name__ == "__main__":
    MinimalApp(with_input="--input" in sys.argv[1:]).run()
