"""Each screen owns its timers, started on mount: no tick reaches a widget that is not
mounted, however fast screens come and go."""

from __future__ import annotations

import pytest

from incident_tui.ui.screens import dashboard, incidents
from incident_tui.ui.screens.dashboard import DashboardScreen
from incident_tui.ui.screens.incidents import IncidentListScreen

from .conftest import wait_for
from .helpers import declare


async def test_fast_ticks_while_screens_switch_never_reach_an_unmounted_widget(
    make_app, store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The clocks tick every 20 ms instead of every second: the race a one-second app-wide
    # tick lost (it reached a dashboard's header before the header existed) is hit at once.
    monkeypatch.setattr(dashboard, "TICK_SECONDS", 0.02)
    monkeypatch.setattr(incidents, "AGES_SECONDS", 0.02)
    ticks = 0
    original = DashboardScreen.tick

    def counted(self: DashboardScreen) -> None:
        nonlocal ticks
        ticks += 1
        original(self)

    monkeypatch.setattr(DashboardScreen, "tick", counted)
    for i in range(3):
        declare(store, f"incident {i}", minutes_ago=10 + i)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, IncidentListScreen) and app.registry is not None)
        await pilot.press("enter")
        for key in ["f4", "f3", "f2", "enter", "f4", "f2", "down", "enter", "f3"]:
            await pilot.press(key)
        await wait_for(pilot, lambda: ticks > 10)
        assert app.is_running and app.return_code is None
    assert app.return_code in (0, None)
