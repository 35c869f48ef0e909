"""Small terminals give way in a chosen order: number, severity and link state stay to
40x12, and the command bar stays at every size Textual can draw."""

from __future__ import annotations

import pytest
from textual.widgets import Label

from incident_tui.ui.screens.dashboard import DashboardScreen
from incident_tui.ui.widgets.command_bar import CommandBar

from .conftest import wait_for
from .helpers import demo


def shown(app, widget) -> bool:
    """Drawn, whole, inside the screen."""
    region = widget.region
    return (
        widget.display and region.width >= widget.content_size.width > 0 and app.screen.region.contains_region(region)
    )


@pytest.mark.parametrize(
    ("size", "title", "phase", "clock"),
    [((80, 24), True, True, True), ((60, 20), True, True, False), ((40, 12), True, False, False)],
)
async def test_the_header_keeps_number_severity_and_link(make_app, store, runbooks, size, title, phase, clock):
    demo(store, runbooks)
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.query(CommandBar))
        screen = app.screen
        await wait_for(pilot, lambda: str(screen.query_one("#hdr-link", Label).render()) == "● local")
        await pilot.pause()
        for part in ("#hdr-ref", "#hdr-sev", "#hdr-link"):
            assert shown(app, screen.query_one(part, Label)), part
        assert shown(app, screen.query_one("#hdr-title", Label)) == title
        assert shown(app, screen.query_one("#hdr-phase", Label)) == phase
        assert shown(app, screen.query_one("#hdr-clock", Label)) == clock
        assert screen.query_one(CommandBar).region.height == 1


@pytest.mark.parametrize("size", [(40, 8), (30, 5)])
async def test_the_command_bar_stays_in_a_tiny_window(make_app, store, runbooks, size):
    demo(store, runbooks)
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.query(CommandBar))
        await pilot.pause()
        bar = app.screen.query_one(CommandBar)
        assert bar.region.height >= 1 and app.screen.region.contains_region(bar.region)
        await pilot.press(*"tiny")
        assert bar.value == "tiny"
