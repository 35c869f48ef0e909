"""The screen stack: the list at the bottom, one dashboard above it, whatever the keys."""

from __future__ import annotations

from incident_tui.domain.commands import declare_event
from incident_tui.ui.screens.dashboard import DashboardScreen
from incident_tui.ui.screens.incidents import IncidentListScreen

from .conftest import wait_for
from .helpers import declare


async def test_switching_incidents_over_an_open_document_never_stacks_a_dashboard_twice(make_app, store):
    first = declare(store, "Login broken", "SEV1")
    second = declare(store, "Search is slow", "SEV2")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, IncidentListScreen) and app.registry is not None)
        await pilot.press("enter")
        await wait_for(pilot, lambda: getattr(app.screen, "incident", None) == first)
        app.open_incident(second)
        await wait_for(pilot, lambda: getattr(app.screen, "incident", None) == second)
        await pilot.press("f3")
        await wait_for(pilot, lambda: getattr(app.screen, "incident", None) == first)
        await pilot.press("f8")  # the handoff snapshot, a screen over the dashboard
        await wait_for(pilot, lambda: not isinstance(app.screen, DashboardScreen))
        await pilot.press("f4")
        await wait_for(pilot, lambda: getattr(app.screen, "incident", None) == second)
        await pilot.press("f3")
        await wait_for(pilot, lambda: getattr(app.screen, "incident", None) == first)
        stack = app.screen_stack
        assert len(stack) == 2 and isinstance(stack[0], IncidentListScreen)
        assert len({id(s) for s in stack}) == len(stack)
        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, IncidentListScreen))
        assert len(app.screen_stack) == 1


async def test_apps_made_in_one_process_leave_the_collector_as_they_found_it(make_app, store):
    """The collector policy is run_app's: an app made in a test (or embedded) freezes
    nothing and leaves the collector running, so what it held can be collected."""
    import gc

    store.append([declare_event("Checkout down", "alice")])
    frozen = gc.get_freeze_count()
    for _ in range(3):
        app = make_app()
        async with app.run_test() as pilot:
            await wait_for(pilot, lambda app=app: app.registry is not None)
            assert gc.isenabled()
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen
