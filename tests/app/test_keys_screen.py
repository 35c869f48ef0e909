"""F1 lists the war room's own keys before the text box's editing keys, at 80 columns too."""

from __future__ import annotations

from incident_tui.ui.screens.dashboard import DashboardScreen
from incident_tui.ui.screens.keys import KeysScreen

from .conftest import wait_for
from .helpers import demo


async def test_f1_shows_the_app_keys_first_and_closes_again(make_app, store, runbooks):
    demo(store, runbooks)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, KeysScreen))
        text = str(app.screen.query_one("Static").render())
        lines = text.splitlines()
        assert lines[0] == "This screen and the app"
        own = text[: text.index("In the command bar")]
        for key in ("f5", "f6", "f7", "ctrl+r", "f2", "ctrl+q", "f1"):
            assert f"  {key} " in own, key
        assert text.index("Tick") < text.index("In the command bar") < text.index("Text editing")
        assert "ctrl+j" in text
        # The first screenful (80x24, less the border) already shows the F-keys.
        await wait_for(pilot, lambda: "Filter" in (shown := app.export_screenshot()) and "Tick" in shown)
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
