"""Colours drawn as Rich styles come from the theme, and a theme switch repaints them.

The side panes' marks (a ticked item, an open hypothesis, "all done") are component
classes styled by theme variables; the incident list bakes severity and phase colours
into its rows and rebuilds them on a switch.
"""

from __future__ import annotations

from rich.color import Color as RichColor
from textual.color import Color
from textual.geometry import Region
from textual.widget import Widget

from incident_tui.ui.screens import incidents
from incident_tui.ui.screens.dashboard import DashboardScreen
from incident_tui.ui.screens.incidents import IncidentListScreen
from incident_tui.ui.widgets.checklist import ChecklistPane
from incident_tui.ui.widgets.followups import FollowupsPane
from incident_tui.ui.widgets.incident_table import IncidentTable
from incident_tui.ui.widgets.summary_strip import SummaryStrip

from .conftest import wait_for
from .helpers import declare, demo

# widget, component class, the theme variable that colours it
COMPONENTS = [
    (ChecklistPane, "checklist-pane--done", "success"),
    (FollowupsPane, "followups-pane--hypothesis", "warning"),
    (SummaryStrip, "summary-strip--all-done", "success"),
]


def _triplet(color: RichColor | None) -> tuple[int, int, int] | None:
    return None if color is None else tuple(color.get_truecolor())


def _painted(widget: Widget, mark: str) -> tuple[int, int, int] | None:
    """The colour `mark` is painted in, read from the widget's rendered lines (what the screen shows)."""
    for strip in widget.render_lines(Region(0, 0, widget.size.width, widget.size.height)):
        for segment in strip:
            if mark in segment.text and segment.style is not None:
                return _triplet(segment.style.color)
    raise AssertionError(f"{mark!r} is not on {widget}")


async def _until_painted(pilot, widget: Widget, mark: str, color: str) -> None:
    rgb = Color.parse(color).rgb
    await wait_for(pilot, lambda: _painted(widget, mark) == rgb)


async def test_every_theme_colours_the_panes_marks_from_its_own_palette(make_app, store, runbooks):
    demo(store, runbooks, until="mitigating")  # ticked items and an open hypothesis
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        screen = app.screen
        checklist, followups = screen.query_one(ChecklistPane), screen.query_one(FollowupsPane)
        await wait_for(pilot, lambda: "✔" in str(checklist.render()) and "H1" in str(followups.render()))
        themes = sorted(app.available_themes)
        assert {"incident-dark", "incident-light", "incident-high-contrast", "textual-light", "nord"} <= set(themes)
        seen = set()
        for name in themes:
            app.theme = name
            await pilot.pause()
            variables = app.get_css_variables()
            for widget_type, component, variable in COMPONENTS:
                style = screen.query_one(widget_type).get_component_rich_style(component, partial=True)
                expected = Color.parse(variables[variable]).rgb
                assert _triplet(style.color) == expected, (name, component)
                seen.add((component, expected))
            # Painted, not only styled: the panes' rows were redrawn in this theme's colours.
            await _until_painted(pilot, checklist, "✔", variables["success"])
            await _until_painted(pilot, followups, "H1", variables["warning"])
        assert len(seen) > 2 * len(COMPONENTS)  # the themes' own colours, not one literal for all


async def test_a_theme_switch_redraws_the_incident_list_in_the_new_colours(make_app, store, monkeypatch):
    # The list's ages tick rebuilds its rows every 15 s: out of the way, only the switch can repaint them.
    monkeypatch.setattr(incidents, "AGES_SECONDS", 3600.0)
    declare(store, "Login broken", "SEV1")
    declare(store, "Search is slow", "SEV3")  # two: the app opens a lone active incident by itself
    app = make_app(theme="incident-dark")
    async with app.run_test(size=(100, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, IncidentListScreen) and app.registry is not None)
        table = app.screen.query_one(IncidentTable)
        await wait_for(pilot, lambda: table.row_count == 2)
        for name in ("incident-dark", "incident-light", "textual-light", "incident-high-contrast"):
            app.theme = name
            await pilot.pause()
            variables = app.get_css_variables()
            await _until_painted(pilot, table, "SEV1", variables["sev1"])
            phase = app.registry.order[0].phase
            assert phase == "detected"
            assert _painted(table, phase) == Color.parse(variables[f"phase-{phase}"]).rgb, name
