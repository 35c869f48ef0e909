"""Follow-ups (action items) and open hypotheses: what is still owed."""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text

from ...domain.fold import IncidentState
from ...domain.text import safe_text
from .hanging import append_hanging
from .themed_text import ThemedText


def followups_text(state: IncidentState, hypothesis: Style | str = "bold", width: int = 60) -> Text:
    """`hypothesis`: the style of an open hypothesis's mark (the pane's theme colour)."""
    text = Text(overflow="fold")
    lines = 0
    for h in state.hypotheses:
        if h.status != "open":
            continue
        if lines:
            text.append("\n")
        append_hanging(text, f"H{h.number} ? ", hypothesis, safe_text(h.text, 300, oneline=True), "", width)
        lines += 1
    for f in state.followups:
        if lines:
            text.append("\n")
        body = safe_text(f.text, 300, oneline=True)
        if f.owner:
            body += f" @{safe_text(f.owner, 40, oneline=True)}"
        if f.due:
            body += f" due {safe_text(f.due, 20, oneline=True)}"
        append_hanging(
            text, f"F{f.number} {'✔' if f.done else '○'} ", "bold", body, "dim strike" if f.done else "", width
        )
        lines += 1
    if not lines:
        text.append("no open hypotheses or follow-ups", "dim italic")
    return text


class FollowupsPane(ThemedText):
    DEFAULT_CSS = """
    FollowupsPane { height: auto; padding: 0 1; border-top: solid $primary-muted; border-title-color: $text-muted; }
    FollowupsPane > .followups-pane--hypothesis { color: $warning; text-style: bold; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"followups-pane--hypothesis"}

    _shown: IncidentState | None = None

    def show(self, state: IncidentState) -> None:
        self._shown = state
        open_h = sum(1 for h in state.hypotheses if h.status == "open")
        open_f = sum(1 for f in state.followups if not f.done)
        hyps = "hypothesis" if open_h == 1 else "hypotheses"
        fups = "follow-up" if open_f == 1 else "follow-ups"
        self.border_title = f"Open: {open_h} {hyps}, {open_f} {fups}"
        self.redraw()

    def draw(self, width: int, styles: dict[str, Style]) -> Text | None:
        if self._shown is None:
            return None
        return followups_text(self._shown, styles["followups-pane--hypothesis"], width)
