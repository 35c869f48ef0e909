"""The narrow-terminal stand-in for the side panes: roles and checklist in two lines."""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text

from ...domain.checklists import Runbooks
from ...domain.fold import IncidentState
from ...domain.text import safe_text
from .checklist import checklist_progress
from .themed_text import ThemedText

SHORT = {"commander": "IC", "deputy": "dep", "scribe": "scribe", "comms": "comms", "sme": "sme"}


def strip_text(state: IncidentState, runbooks: Runbooks, all_done: Style | str = "") -> Text:
    """`all_done`: the style of "all done" once the checklist is (the strip's theme colour)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    for i, (role, short) in enumerate(SHORT.items()):
        if i:
            text.append(" · ", "dim")
        text.append(f"{short} ", "bold")
        holders = state.holders(role)
        if holders:
            text.append(safe_text(",".join(holders), 60, oneline=True))
        else:
            text.append("—", "dim")
    open_f = sum(1 for f in state.followups if not f.done)
    if open_f:
        text.append(f" · F:{open_f} open", "dim")
    text.append("\n")
    done, total, first = checklist_progress(state, runbooks)
    text.append(f"{state.phase} {done}/{total}", "bold")
    if first:
        text.append(" next ☐ ")
        text.append(safe_text(first, 200, oneline=True))
    elif total:
        text.append(" ✔ all done", all_done)
    return text


class SummaryStrip(ThemedText):
    DEFAULT_CSS = """
    SummaryStrip { height: 2; padding: 0 1; background: $boost; }
    SummaryStrip > .summary-strip--all-done { color: $success; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"summary-strip--all-done"}

    _shown: tuple[IncidentState, Runbooks] | None = None

    def show(self, state: IncidentState, runbooks: Runbooks) -> None:
        self._shown = (state, runbooks)
        self.redraw()

    def draw(self, width: int, styles: dict[str, Style]) -> Text | None:
        if self._shown is None:
            return None
        return strip_text(*self._shown, styles["summary-strip--all-done"])
