"""The incident list's table: cursor keys, paging past the fold, clicks, live rows."""

from __future__ import annotations

from incident_tui.ui.screens.incidents import IncidentListScreen
from incident_tui.ui.widgets.incident_table import IncidentTable

from .conftest import wait_for
from .helpers import declare


async def test_cursor_pages_past_the_fold_and_keeps_its_row_in_view(make_app, store):
    ids = [declare(store, f"Incident number {i}", "SEV3") for i in range(40)]
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, IncidentListScreen) and app.registry is not None)
        table = app.screen.query_one(IncidentTable)
        assert table.row_count == 40
        # Same severity: newest first, so the first row is the last declared.
        assert table.selected == ids[-1]
        await pilot.press("end")
        assert table.selected == ids[0]
        visible = table.scrollable_content_region.height - 1  # the header takes a line
        assert int(table.scroll_y) <= 39 <= int(table.scroll_y) + visible - 1
        assert "Incident number 0" in str(table.render_line(39 - int(table.scroll_y) + 1).text)
        await pilot.press("home", "pagedown")
        assert table.cursor == visible  # a page: the rows one screen shows
        await pilot.press("home")
        assert table.cursor == 0 and table.scroll_y == 0
        assert "INC" in table.render_line(0).text and "TITLE" in table.render_line(0).text


async def test_a_click_moves_the_cursor_and_a_second_click_opens(make_app, store):
    first = declare(store, "Login broken", "SEV1")
    second = declare(store, "Search is slow", "SEV3")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, IncidentListScreen) and app.registry is not None)
        table = app.screen.query_one(IncidentTable)
        assert table.selected == first
        await pilot.click(IncidentTable, offset=(10, 2))  # line 2: the second row
        assert table.selected == second
        assert isinstance(app.screen, IncidentListScreen)
        await pilot.click(IncidentTable, offset=(10, 2))
        await wait_for(pilot, lambda: getattr(app.screen, "incident", None) == second)


async def test_the_cursor_stays_on_its_incident_when_a_new_one_sorts_above_it(make_app, store):
    declare(store, "Search is slow", "SEV3")
    chosen = declare(store, "Disk filling", "SEV3")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, IncidentListScreen) and app.registry is not None)
        table = app.screen.query_one(IncidentTable)
        assert table.selected == chosen
        declare(store, "Everything is down", "SEV1")  # another process's write, sorted first
        await wait_for(pilot, lambda: table.row_count == 3)
        assert table.selected == chosen and table.cursor == 1
