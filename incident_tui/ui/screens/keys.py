"""F1: the app's own keys first (this screen's, then the app's), the text editor's after.

Textual's help panel lists the focused widget's keys first: in the command bar that is
some thirty text-editing keys before a single F-key. People in an incident need the
war-room keys; the editing keys are what every text box does.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import ActiveBinding, Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

EXTRA_KEYS = (  # handled inside the command bar (no Binding to list)
    ("enter", "log the line"),
    ("@14:02", "before a line: back-date it (the most recent past 14:02)"),
)


def keys_text(bindings: dict[str, ActiveBinding]) -> Text:
    """Screen and app keys, then the command bar's, then the editing keys every text box has."""
    own: list[tuple[str, str]] = []
    bar: list[tuple[str, str]] = []
    editing: list[tuple[str, str]] = []
    for key, active in bindings.items():
        binding = active.binding
        if not binding.description or binding.system or "focus_" in binding.action:
            continue
        row = (key, binding.description)
        if isinstance(active.node, (App, Screen)):
            own.append(row)
        elif (binding.id or "").startswith("command_bar."):
            bar.append(row)
        else:
            editing.append(row)
    out = Text()

    def section(title: str, rows: list[tuple[str, str]] | tuple[tuple[str, str], ...]) -> None:
        out.append(f"{title}\n", "bold")
        for key, what in rows:
            out.append(f"  {key:<12}", "bold")
            out.append(f" {what}\n")

    section("This screen and the app", own)
    if bar:
        section("\nIn the command bar", [*EXTRA_KEYS, *bar])
    if editing:
        out.append("\nText editing (any box)\n", "bold")
        out.append("  " + ", ".join(f"{k} {w.lower()}" for k, w in editing), "dim")
    return out


class KeysScreen(ModalScreen[None]):
    CSS_PATH = "keys.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1", "dismiss", "Back", id="keys.close"),
    ]

    def __init__(self, text: Text) -> None:
        super().__init__()
        self._text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "Keys · Esc or F1 back"
            yield Static(self._text)

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()
