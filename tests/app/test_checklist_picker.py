"""The checklist follows the state; the F7 picker stops at its ends and asks before unticking."""

from __future__ import annotations

from textual.widgets import OptionList, Static

from incident_tui.ui.screens.dashboard import DashboardScreen
from incident_tui.ui.screens.forms import CheckScreen
from incident_tui.ui.widgets.checklist import ChecklistPane

from .conftest import wait_for
from .helpers import declare, log


async def test_triage_items_tick_themselves_and_the_picker_asks_before_unticking(make_app, store, runbooks):
    incident = declare(store, "Checkout down", severity="SEV3")
    log(store, runbooks, incident, "/phase triage")
    log(store, runbooks, incident, "/assign commander alice")
    log(store, runbooks, incident, "/check 4")  # categorize, ticked by hand
    app = make_app(user="bob")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        pane = app.screen.query_one(ChecklistPane)
        await wait_for(pilot, lambda: "triage 2/7" in str(pane.border_title))
        text = " ".join(str(pane.render()).split())  # the pane wraps its items
        assert "1 ✔ Assign an incident commander (/assign commander NAME) · auto" in text
        assert "4 ✔ Categorize the incident (/category NAME) ✔ bob" in text

        await pilot.press("f7")
        await wait_for(pilot, lambda: isinstance(app.screen, CheckScreen))
        picker = app.screen.query_one(OptionList)
        await wait_for(pilot, lambda: picker.highlighted == 1)  # the first open item
        await pilot.press("up", "up", "up")
        await wait_for(pilot, lambda: picker.highlighted == 0)  # stops at the top, no wrap to the bottom
        await pilot.press("enter")  # automatic: refused with the reason, nothing written
        error = app.screen.query_one(".form-error", Static)
        await wait_for(pilot, lambda: "ticks itself" in str(error.render()))
        await pilot.press(*["down"] * 10)
        await wait_for(pilot, lambda: picker.highlighted == 6)  # stops at the bottom
        await pilot.press("up", "up", "up", "enter")  # item 4, ticked by hand: asks first
        await wait_for(pilot, lambda: "Enter again unticks" in str(error.render()))
        assert isinstance(app.screen, CheckScreen)
        before = store.latest_seq()
        await pilot.press("enter")
        await wait_for(pilot, lambda: store.latest_seq() > before)
        last = store.read()[-1]
        assert (last.kind, last.data["index"], last.data["done"]) == ("checklist.set", 4, False)
        await wait_for(pilot, lambda: "triage 1/7" in str(pane.border_title))

        log(store, runbooks, incident, "/assign scribe carol")  # another client: ticks item 2
        await wait_for(pilot, lambda: "triage 2/7" in str(pane.border_title))
