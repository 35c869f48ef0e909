"""Follow-ups (action items) and open hypotheses: what is still owed."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ...domain.fold import IncidentState
from ...domain.text import safe_text


def followups_text(state: IncidentState) -> Text:
    text = Text(overflow="fold")
    lines = 0
    for h in state.hypotheses:
        if h.status != "open":
            continue
        if lines:
            text.append("\n")
        text.append(f"H{h.number} ? ", "bold yellow")
        text.append(safe_text(h.text, 300, oneline=True))
        lines += 1
    for f in state.followups:
        if lines:
            text.append("\n")
        text.append(f"F{f.number} {'✔' if f.done else '○'} ", "bold")
        text.append(safe_text(f.text, 300, oneline=True), "dim strike" if f.done else "")
        if f.owner:
            text.append(f" @{safe_text(f.owner, 40, oneline=True)}", "italic")
        if f.due:
            text.append(f" due {safe_text(f.due, 20, oneline=True)}", "italic")
        lines += 1
    if not lines:
        text.append("no open hypotheses or follow-ups", "dim italic")
    return text


class FollowupsPane(Static):
    DEFAULT_CSS = """
    FollowupsPane { height: auto; padding: 0 1; border-top: solid $primary-muted; border-title-color: $text-muted; }
    """

    def show(self, state: IncidentState) -> None:
        open_f = sum(1 for f in state.followups if not f.done)
        self.border_title = f"Hypotheses & follow-ups ({open_f} open)"
        self.update(followups_text(state))
