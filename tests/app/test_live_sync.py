"""Another writer's events show on the open screens without a key press."""

from __future__ import annotations

import subprocess
import sys

from incident_tui.store.jsonfile import JsonStore
from incident_tui.ui.screens.dashboard import DashboardScreen
from incident_tui.ui.screens.incidents import IncidentListScreen
from incident_tui.ui.widgets.timeline import Timeline

from .conftest import wait_for
from .helpers import declare, demo, log, timeline_lines


async def test_a_second_store_handle_appends_and_the_open_dashboard_shows_it(make_app, store, store_path, runbooks):
    incident = demo(store, runbooks)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        other = JsonStore(store_path)
        try:
            # Shown without a key press; how fast is bench/bench_sync.py's to say (a budget
            # here would measure the machine's load, not the app).
            log(other, runbooks, incident, "/obs error rate back to 0.4% #checkout", author="carol")
            await wait_for(pilot, lambda: "error rate back to 0.4%" in timeline_lines(app.screen)[-1])
            log(other, runbooks, incident, "/sev 1", author="carol")
            await wait_for(pilot, lambda: app.screen.state.severity == "SEV1")
        finally:
            other.close()


async def test_an_incident_declared_by_the_cli_process_appears_in_the_open_list(make_app, store, store_path):
    declare(store, "Search is slow", "SEV3")
    declare(store, "Login broken", "SEV1")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, IncidentListScreen) and app.registry is not None)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "incident_tui",
                "--store",
                str(store_path),
                "--user",
                "dave",
                "declare",
                "Payments down",
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )
        await wait_for(pilot, lambda: len(app.screen.rows()) == 3)
        titles = [s.title for s in app.screen.rows()]
        assert "Payments down" in titles


async def test_the_timeline_keeps_its_place_when_scrolled_up_and_counts_what_waits_below(make_app, store, runbooks):
    incident = demo(store, runbooks, until="monitoring")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        tl = app.screen.query_one(Timeline)
        assert tl.following
        await pilot.press("pageup")
        await wait_for(pilot, lambda: not tl.following)
        top = tl.scroll_y
        log(store, runbooks, incident, "a new line while the scribe reads back")
        await wait_for(pilot, lambda: app.registry.last_seq == store.latest_seq())
        await wait_for(pilot, lambda: "new below" in str(app.screen.query_one("#tl-status").render()))
        assert tl.scroll_y == top  # did not jump
        assert tl.new_below > 0
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: tl.following and tl.new_below == 0)


async def test_events_arriving_while_a_dashboard_composes_are_drawn_not_a_crash(make_app, store, runbooks):
    incident = demo(store, runbooks)
    declare(store, "a second active incident")  # two active: the app starts on the list
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.registry is not None)
        app.open_incident(incident)
        app._dashboards[incident].state_changed()  # as the sync thread may, before compose has run
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.is_mounted)
        await pilot.pause()
        assert app.screen.query_one(Timeline).row_count == len(app.registry.incidents[incident].timeline)


async def test_the_list_under_an_open_dashboard_waits_until_it_is_shown_again(make_app, store, store_path, runbooks):
    # Textual counts the screen under the top one as "current"; the list sits under every
    # dashboard, and rebuilding it for each arriving event cost the dashboard's keystrokes.
    incident = demo(store, runbooks)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        listing = app.screen_stack[0]
        assert isinstance(listing, IncidentListScreen)
        rebuilds = 0
        original = listing.refresh_rows

        def counted() -> None:
            nonlocal rebuilds
            rebuilds += 1
            original()

        listing.refresh_rows = counted  # type: ignore[method-assign]
        other = JsonStore(store_path)
        try:
            log(other, runbooks, incident, "/sev 1", author="carol")
            await wait_for(pilot, lambda: app.screen.state.severity == "SEV1")
        finally:
            other.close()
        assert rebuilds == 0
        await pilot.press("f2")
        await wait_for(pilot, lambda: app.screen is listing)
        # On being shown: the SEV1 is there. (>= 1: the app's once-a-second tick may rebuild
        # the shown list too, and the tests' fixed clock always reads a multiple of 15 s.)
        assert rebuilds >= 1
        assert [s.severity for s in listing.rows()] == ["SEV1"]
