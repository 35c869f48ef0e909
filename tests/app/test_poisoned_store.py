"""The app stays up on a log holding events it cannot fold: it skips them, says so once,
shows everything else, and keeps writing."""

from __future__ import annotations

from pathlib import Path

from poison import POISON, poisoned_store, raw_lines

from incident_tui.store.jsonfile import JsonStore
from incident_tui.ui.screens.dashboard import DashboardScreen

from .conftest import wait_for
from .helpers import timeline_lines


async def test_a_poisoned_store_opens_skips_what_it_cannot_fold_and_keeps_writing(
    make_app, store_path: Path, tmp_path: Path
) -> None:
    store = JsonStore(store_path)
    inc, bad = poisoned_store(store_path)
    app = make_app(the_store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        dash = app.screen
        rows = "\n".join(timeline_lines(dash))
        assert "before" in rows and "after" in rows
        toasts = [n for n in app._notifications]
        assert any(f"seq {bad[0]}:" in n.message for n in toasts), [n.message for n in toasts]
        told = {n.identity for n in toasts}

        # A poison event arriving live is skipped too (a new notice: the first may have
        # timed out meanwhile, so not a count); the next good one still shows.
        raw_lines(store_path, [{**POISON["role a list"], "incident": inc}])
        await wait_for(pilot, lambda: any(n.identity not in told for n in app._notifications))
        await pilot.press(*"still here", "enter")
        await wait_for(pilot, lambda: "still here" in "\n".join(timeline_lines(dash)))
        assert app.is_running
    assert store.read()[-1].data["text"] == "still here"
