"""Small modal forms. Each returns a line of the command language (or declare fields),
so every change still goes through the one path: command -> events -> store."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from ...domain.checklists import Runbooks
from ...domain.fold import IncidentState
from ...domain.model import ROLES, SEVERITIES, SEVERITY_MEANING
from ...domain.serialize import checklist_view
from ...domain.text import safe_text


class FormScreen(ModalScreen):
    """The look every form shares: forms.tcss styles `FormScreen`, which matches each subclass."""

    # Anchored here: Textual resolves a relative CSS_PATH against the subclass's own file.
    CSS_PATH = Path(__file__).with_name("forms.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="form.cancel")]

    def action_cancel(self) -> None:
        self.dismiss(None)

    def error(self, text: str) -> None:
        self.query_one(".form-error", Static).update(Text(safe_text(text, 300, oneline=True)))


class DeclareScreen(FormScreen):
    """Title, severity and summary of a new incident; returns (title, severity, summary)."""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text("Declare an incident"), classes="form-title")
            yield Input(placeholder="title: what is broken, for whom", id="title")
            yield Select(
                [(Text(f"{s}: {SEVERITY_MEANING[s]}"), s) for s in SEVERITIES],
                value="SEV3",
                allow_blank=False,
                id="severity",
            )
            yield Input(placeholder="summary (optional)", id="summary")
            yield Static(classes="form-error")
            yield Label(Text("Enter declares · Tab next field · Escape cancels"), classes="form-help")

    def on_mount(self) -> None:
        self.query_one("#title", Input).focus()

    @on(Input.Submitted)
    def _submit(self) -> None:
        title = self.query_one("#title", Input).value.strip()
        if not title:
            self.error("an incident needs a title")
            self.query_one("#title", Input).focus()
            return
        severity = str(self.query_one("#severity", Select).value)
        self.dismiss((title, severity, self.query_one("#summary", Input).value.strip()))


class AssignScreen(FormScreen):
    """Pick a role, type (Tab-complete) a person: returns `/assign ROLE USER`."""

    def __init__(self, state: IncidentState, others: list[str] | None = None) -> None:
        super().__init__()
        self._state = state
        self._others = others or []

    def compose(self) -> ComposeResult:
        s = self._state
        options = []
        for role in ROLES:
            holders = ", ".join(s.holders(role)) or "unassigned"
            options.append(Option(Text(f"{role:<10} {safe_text(holders, 60, oneline=True)}"), id=role))
        people = list(s.people) + [p for p in self._others if p not in s.people]
        with Vertical():
            yield Label(Text(f"Assign a role in {s.ref}"), classes="form-title")
            yield OptionList(*options, id="roles")
            yield Input(placeholder="who (→ accepts a suggestion)", id="user", suggester=SuggestFromList(people))
            yield Static(classes="form-error")
            yield Label(Text("↑↓ role · Tab to the name · Enter assigns · Escape cancels"), classes="form-help")

    def on_mount(self) -> None:
        roles = self.query_one(OptionList)
        roles.highlighted = 0
        roles.focus()

    @on(OptionList.OptionSelected)
    def _role_picked(self) -> None:
        self.query_one("#user", Input).focus()

    @on(Input.Submitted)
    def _submit(self) -> None:
        roles = self.query_one(OptionList)
        user = self.query_one("#user", Input).value.strip()
        if roles.highlighted is None:
            self.error("pick a role first")
            return
        if not user:
            self.error("type who gets the role")
            return
        role = roles.get_option_at_index(roles.highlighted).id
        self.dismiss(f"/assign {role} {user}")


class StopAtEnds(OptionList):
    """An option list whose cursor stops at the first and last item: a checklist read
    top to bottom should not jump from its last item back to its first."""

    def _step(self, direction: Literal[-1, 1]) -> None:
        if self.option_count:
            at = 0 if self.highlighted is None else self.highlighted + direction
            self.highlighted = min(max(at, 0), self.option_count - 1)

    def action_cursor_up(self) -> None:
        self._step(-1)

    def action_cursor_down(self) -> None:
        self._step(1)


class CheckScreen(FormScreen):
    """The current phase's checklist; Enter toggles the highlighted item (`/check N`)."""

    def __init__(self, state: IncidentState, runbooks: Runbooks) -> None:
        super().__init__()
        self._state = state
        self._items = checklist_view(state, runbooks)
        self._untick: str | None = None  # the done item a first Enter asked about

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(f"Checklist: {self._state.phase}"), classes="form-title")
            if self._items:
                options = []
                for item in self._items:
                    mark = "✔" if item["done"] else "☐"
                    if item["automatic"]:
                        by = " (auto)"
                    elif item["done"]:
                        by = f" ({safe_text(item['by'] or '', 30, oneline=True)})"
                    else:
                        by = ""
                    label = f"{item['n']:>2} {mark} {safe_text(item['text'], 200, oneline=True)}{by}"
                    options.append(Option(Text(label), id=str(item["n"])))
                yield StopAtEnds(*options)
            else:
                yield Label(Text("this phase has no checklist"))
            yield Static(classes="form-error")
            yield Label(Text("↑↓ item · Enter ticks (asks before unticking) · Escape cancels"), classes="form-help")

    def on_mount(self) -> None:
        if self._items:
            ol = self.query_one(OptionList)
            first_open = next((i for i, it in enumerate(self._items) if not it["done"]), 0)
            ol.highlighted = first_open
            ol.focus()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        n = str(event.option.id)
        item = self._items[int(n) - 1]
        if item["automatic"]:
            self.error(f"item {n} ticks itself: it is done while the incident shows it")
            return
        if item["done"] and self._untick != n:
            # Unticking someone's tick is rarely meant: say so and wait for a second Enter.
            self._untick = n
            self.error(f"item {n} is done: Enter again unticks it, Escape keeps it")
            return
        self.dismiss(f"/check {n}")

    @on(OptionList.OptionHighlighted)
    def _moved(self) -> None:
        if self._untick is not None:
            self._untick = None
            self.error("")


class FilterScreen(FormScreen):
    """`kind:decision`, `@alice`, `#db`, words; empty shows everything."""

    def __init__(self, current: str) -> None:
        super().__init__()
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text("Filter the timeline"), classes="form-title")
            yield Input(value=self._current, placeholder="kind:decision @alice #db words", id="filter")
            yield Label(
                Text(
                    "kind:NAME (note obs decision action hypothesis update phase role …) · @author · #tag · "
                    "words; all must match. Empty shows everything. Enter applies · Escape cancels"
                ),
                classes="form-help",
            )

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)
