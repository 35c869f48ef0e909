"""A Markdown document (handoff snapshot, postmortem draft) in a full-screen viewer.

The documents module escapes user text inside the Markdown it renders; Textual's
Markdown widget does not run actions from links, so what shows is what was written.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Footer, Markdown, MarkdownViewer, Static

from ..messages import ExportDocuments


class _Viewer(MarkdownViewer):
    """Textual's viewer, minus a crash: closing the document (Escape) right as it opens
    left the contents-updated message to a table of contents whose tree was already
    gone (NoMatches took the app down; seen under load in the handoff test)."""

    def _on_markdown_table_of_contents_updated(self, message: Markdown.TableOfContentsUpdated) -> None:
        try:
            super()._on_markdown_table_of_contents_updated(message)
        except NoMatches:
            message.stop()


class DocumentScreen(Screen[None]):
    CSS_PATH = "document.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back", id="document.close"),
        Binding("f8", "close", "Back", show=False, id="document.close_f8"),
        Binding("f9", "close", "Back", show=False, id="document.close_f9"),
        Binding("ctrl+s", "export", "Export docs", id="document.export"),
    ]

    def __init__(self, title: str, markdown: str, incident: str) -> None:
        super().__init__()
        self._title = title
        self._markdown = markdown
        self.incident = incident

    def compose(self) -> ComposeResult:
        yield Static(Text(self._title), id="doc-title")
        yield _Viewer(self._markdown, show_table_of_contents=False)
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        try:
            self.query_one(MarkdownViewer).document.focus()
        except NoMatches:  # closed (or replaced) before it finished mounting: nothing to focus
            pass

    def action_close(self) -> None:
        self.dismiss(None)

    def action_export(self) -> None:
        self.post_message(ExportDocuments(self.incident))
