"""The current phase's checklist, with who ticked each item."""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text

from ...domain.checklists import Runbooks
from ...domain.fold import IncidentState
from ...domain.serialize import checklist_view
from ...domain.text import safe_text
from .hanging import append_hanging
from .themed_text import ThemedText


def checklist_text(state: IncidentState, runbooks: Runbooks, done: Style | str = "bold", width: int = 60) -> Text:
    """`done`: the style of a ticked item's mark (the pane's theme colour)."""
    items = checklist_view(state, runbooks)
    text = Text(overflow="fold")
    if not items:
        text.append(f"phase {state.phase} has no checklist", "dim italic")
        return text
    for i, item in enumerate(items):
        if i:
            text.append("\n")
        body = safe_text(item["text"], 300, oneline=True)
        if item["automatic"]:
            # Done by itself: the state meets the item's condition (no one typed /check).
            append_hanging(text, f"{item['n']:>2} ✔ ", done, body + " · auto", "dim", width)
        elif item["done"]:
            body += f" ✔ {safe_text(item['by'] or '', 40, oneline=True)}"
            append_hanging(text, f"{item['n']:>2} ✔ ", done, body, "dim", width)
        else:
            append_hanging(text, f"{item['n']:>2} ☐ ", "bold", body, "", width)
    return text


def checklist_progress(state: IncidentState, runbooks: Runbooks) -> tuple[int, int, str | None]:
    """(done, total, the first open item as `N. text`)."""
    items = checklist_view(state, runbooks)
    done = sum(1 for i in items if i["done"])
    first = next((f"{i['n']}. {i['text']}" for i in items if not i["done"]), None)
    return done, len(items), first


class ChecklistPane(ThemedText):
    DEFAULT_CSS = """
    ChecklistPane { height: auto; padding: 0 1; border-top: solid $primary-muted; border-title-color: $text-muted; }
    ChecklistPane > .checklist-pane--done { color: $success; text-style: bold; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"checklist-pane--done"}

    _shown: tuple[IncidentState, Runbooks] | None = None

    def show(self, state: IncidentState, runbooks: Runbooks) -> None:
        self._shown = (state, runbooks)
        done, total, _ = checklist_progress(state, runbooks)
        self.border_title = f"Checklist: {state.phase} {done}/{total} (F7 tick)"
        self.redraw()

    def draw(self, width: int, styles: dict[str, Style]) -> Text | None:
        if self._shown is None:
            return None
        return checklist_text(*self._shown, styles["checklist-pane--done"], width)
