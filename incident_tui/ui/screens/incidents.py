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
from ..colors import variable_style
from ..messages import DeclareIncident, OpenIncident
from ..widgets.incident_table import IncidentTable

if TYPE_CHECKING:
    from ..room import Room

# Fixed widths for all but the title, which takes what is left, so that every column
# shows at 80 columns.
COLUMNS = {"INC": 6, "SEV": 4, "PHASE": 10, "TITLE": 0, "COMMANDER": 12, "AGE": 6}


AGES_SECONDS = 15.0  # ages move slowly; a rebuild every 15 s is plenty


class IncidentListScreen(Screen[None]):
    # The app's CSS_PATH reads this file too: the list is the app's default screen, and Textual
    # loads a screen's CSS_PATH when it is pushed, never for the default screen.
    CSS_PATH = "incidents.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", id="list.open"),
        Binding("n", "declare", "Declare", id="list.declare"),
        Binding("a", "toggle_all", "All/active", id="list.all"),
    ]

    def __init__(self, room: Room) -> None:
        super().__init__()
        self.room = room
        self.show_all = False

    def compose(self) -> ComposeResult:
        yield Static(Text("Incidents"), id="list-title")
        yield IncidentTable(COLUMNS)
        yield Static(Text("loading the store…"), id="list-hint")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.refresh_rows()
        # Ages move slowly: a rebuild every 15 s while the list is shown is plenty.
        self.set_interval(AGES_SECONDS, self._tick)
        # Severity and phase colours are the theme's, baked into the rows: rebuild on a switch.
        # The signal, not a watch on `theme`: a watcher runs before Textual refreshes the CSS,
        # when `theme_variables` still holds the old theme (rows stayed in its colours until
        # the next ages tick).
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def _tick(self) -> None:
        # is_active, not is_current: under a dashboard the list counts as current (it may
        # show through), and a rebuild there repainted the whole dashboard every 15 s.
        if self.is_active:
            self.refresh_rows()

    def _theme_changed(self, _theme: object = None) -> None:
        self.refresh_rows()
        self.query_one(IncidentTable).focus()

    def on_screen_resume(self) -> None:
        self.refresh_rows()

    def rows(self) -> list[IncidentState]:
        reg = self.room.registry
        if reg is None:
            return []
        states = reg.order if self.show_all else reg.active()
        return sorted(states, key=lambda s: (s.severity, -s.number))

    def refresh_rows(self) -> None:
        """Rebuild the table from the fold, keeping the cursor on the same incident."""
        table = self.query_one(IncidentTable)
        hint = self.query_one("#list-hint", Static)
        title = self.query_one("#list-title", Static)
        if self.room.registry is None:
            return
        now = self.room.now()
        states = self.rows()
        table.set_rows([(s.id, self.cells(s, now)) for s in states])
        total = len(self.room.registry.order)
        which = "all" if self.show_all else "active"
        where = safe_text(self.room.location.rstrip("/").rsplit("/", 1)[-1], 60, oneline=True)
        you = safe_text(self.room.user, 64, oneline=True)
        title.update(Text(f"Incidents: {len(states)} {which} of {total} · you are {you} · store {where}"))
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
            Text(s.severity, style=variable_style(self.app.theme_variables, s.severity.lower(), bold=True)),
            Text(s.phase, style=variable_style(self.app.theme_variables, f"phase-{s.phase}")),
            Text(safe_text(s.title, 120, oneline=True)),
            Text(safe_text(s.commander or "—", 24, oneline=True)),
            Text(age_text((now - s.declared_at).total_seconds()), justify="right"),
        ]

    def selected(self) -> str | None:
        return self.query_one(IncidentTable).selected

    def on_incident_table_chosen(self, event: IncidentTable.Chosen) -> None:
        event.stop()
        self.post_message(OpenIncident(event.key))

    def action_open(self) -> None:
        incident = self.selected()
        if incident:
            self.post_message(OpenIncident(incident))

    def action_toggle_all(self) -> None:
        self.show_all = not self.show_all
        self.refresh_rows()

    def action_declare(self) -> None:
        from .forms import DeclareScreen

        def declared(fields: tuple[str, str, str] | None) -> None:
            if fields:
                self.post_message(DeclareIncident(*fields))

        self.app.push_screen(DeclareScreen(), declared)
