"""The incident list: a live table; Enter opens one, `n` declares a new one."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Static

from ...domain.fold import IncidentState
from ...domain.serialize import age_text
from ...domain.text import safe_text
from ..widgets.incident_table import IncidentTable

if TYPE_CHECKING:
    from ..app import WarRoomApp

# Fixed widths for all but the title, which takes what is left, so that every column
# shows at 80 columns.
COLUMNS = {"INC": 6, "SEV": 4, "PHASE": 10, "TITLE": 0, "COMMANDER": 12, "AGE": 6}
# Fallback colours when the theme defines none; the real ones come from $sev1.. via the app.
SEV_STYLE = {"SEV1": "bold reverse", "SEV2": "bold", "SEV3": "", "SEV4": "dim", "SEV5": "dim"}


class IncidentListScreen(Screen[None]):
    DEFAULT_CSS = """
    IncidentListScreen { layout: vertical; }
    IncidentListScreen #list-title { height: 1; padding: 0 1; background: $panel; text-style: bold; }
    IncidentListScreen IncidentTable { height: 1fr; }
    IncidentListScreen #list-hint { height: 1; padding: 0 1; color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", id="list.open"),
        Binding("n", "declare", "Declare", id="list.declare"),
        Binding("a", "toggle_all", "All/active", id="list.all"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.show_all = False

    @property
    def war(self) -> WarRoomApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static(Text("Incidents"), id="list-title")
        yield IncidentTable(COLUMNS)
        yield Static(Text("loading the store…"), id="list-hint")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.refresh_rows()
        self.query_one(IncidentTable).focus()

    def on_screen_resume(self) -> None:
        self.refresh_rows()

    def rows(self) -> list[IncidentState]:
        reg = self.war.registry
        if reg is None:
            return []
        states = reg.order if self.show_all else reg.active()
        return sorted(states, key=lambda s: (s.severity, -s.number))

    def refresh_rows(self) -> None:
        """Rebuild the table from the fold, keeping the cursor on the same incident."""
        table = self.query_one(IncidentTable)
        hint = self.query_one("#list-hint", Static)
        title = self.query_one("#list-title", Static)
        if self.war.registry is None:
            return
        now = self.war.now()
        states = self.rows()
        table.set_rows([(s.id, self.cells(s, now)) for s in states])
        total = len(self.war.registry.order)
        which = "all" if self.show_all else "active"
        where = safe_text(self.war.store.location.rstrip("/").rsplit("/", 1)[-1], 60, oneline=True)
        title.update(Text(f"Incidents: {len(states)} {which} of {total} · you are {self.war.user} · store {where}"))
        if states:
            hint.update(Text("Enter opens · n declares · a all/active · F2 this list · ctrl+p commands · ctrl+q quits"))
        else:
            others = total - len(states)
            more = f" · a shows the {others} resolved or closed" if others else ""
            hint.update(Text(f"no {'' if self.show_all else 'active '}incidents: n declares one{more}"))

    def cells(self, s: IncidentState, now) -> list[Text]:
        # Every cell is a Text (never markup); user text goes through safe_text.
        return [
            Text(s.ref, style="bold"),
            Text(s.severity, style=self.war.severity_style(s.severity)),
            Text(s.phase, style=self.war.phase_style(s.phase)),
            Text(safe_text(s.title, 120, oneline=True)),
            Text(safe_text(s.commander or "—", 24, oneline=True)),
            Text(age_text((now - s.declared_at).total_seconds()), justify="right"),
        ]

    def selected(self) -> str | None:
        return self.query_one(IncidentTable).selected

    def on_incident_table_chosen(self, event: IncidentTable.Chosen) -> None:
        event.stop()
        self.war.open_incident(event.key)

    def action_open(self) -> None:
        incident = self.selected()
        if incident:
            self.war.open_incident(incident)

    def action_toggle_all(self) -> None:
        self.show_all = not self.show_all
        self.refresh_rows()

    def action_declare(self) -> None:
        from .forms import DeclareScreen

        self.app.push_screen(DeclareScreen(), self.war.declare)
