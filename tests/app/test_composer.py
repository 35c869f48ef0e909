"""The command bar as a composer: it grows with a long note, takes newlines, and a refused
line stays selected so the next line replaces it instead of running on from its end."""

from __future__ import annotations

from textual import events

from incident_tui.ui.screens.dashboard import DashboardScreen
from incident_tui.ui.widgets.command_bar import CommandBar

from .conftest import wait_for
from .helpers import demo

LONG = (
    "Replica lag on orders-db-eu reached 40 minutes after the failover; the old primary kept "
    "accepting writes for about 90 seconds before fencing, so some orders exist only there. "
    "We are not failing back until the DBA team has a diff of the two."
)


async def test_a_long_note_grows_the_bar_up_to_a_third_of_the_screen(make_app, store, runbooks):
    demo(store, runbooks)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        bar = app.screen.query_one(CommandBar)
        assert bar.size.height == 1
        bar.value = LONG
        await wait_for(pilot, lambda: bar.size.height == 4)  # 244 characters in 78 columns
        bar.value = LONG * 3
        await wait_for(pilot, lambda: bar.size.height == 7)  # capped at a third of 24 rows (33vh)
        await pilot.press("ctrl+a", "ctrl+k")
        bar.value = "first line"
        await pilot.press("ctrl+j", *"second")
        assert bar.value == "first line\nsecond"
        await wait_for(pilot, lambda: bar.size.height == 2)
        before = store.latest_seq()
        await pilot.press("enter")
        await wait_for(pilot, lambda: store.latest_seq() > before)
        assert store.read()[-1].data["text"] == "first line\nsecond"
        await wait_for(pilot, lambda: bar.value == "" and bar.size.height == 1)


async def test_a_refused_line_is_selected_and_the_next_line_replaces_it(make_app, store, runbooks):
    demo(store, runbooks)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        bar = app.screen.query_one(CommandBar)
        await pilot.press(*"/sev 0", "enter")
        await wait_for(pilot, lambda: bar.selected_text == "/sev 0")
        before = store.latest_seq()
        await pilot.press(*"/obs replaced", "enter")
        await wait_for(pilot, lambda: store.latest_seq() > before)
        last = store.read()[-1]
        assert (last.kind, last.data["text"]) == ("obs", "replaced")


async def test_lines_entered_while_one_is_written_are_sent_in_order_not_glued(make_app, store):
    """tmux send-keys (or a fast typist) entered three lines at once: the first was still
    being written, and the others ran on from its text (`/assign commander alice@00:01 …/sev 1`)."""
    from incident_tui.domain.commands import declare_event

    store.append([declare_event("glued lines", "alice")])
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        bar = app.screen.query_one(CommandBar)
        for line in ("/assign commander alice", "first page went out", "/sev 1"):
            bar.value = line
            await pilot.press("enter")  # no wait: the next line comes while the first is written
        await wait_for(pilot, lambda: len(store.read()) == 4)
        kinds = [e.kind for e in store.read()[1:]]
        assert kinds == ["role.assigned", "note", "severity.set"], kinds
        assert store.read()[2].data["text"] == "first page went out"
        assert bar.value == ""


async def test_a_line_entered_just_as_the_one_before_is_acknowledged_waits_its_turn(make_app, store):
    """Between an acknowledgement and the moment the next waiting line is sent, a fresh
    line must queue behind the waiting ones, not overtake them (a suite run saw it)."""
    from incident_tui.domain.commands import declare_event

    store.append([declare_event("turns", "alice")])
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        dash = app.screen
        bar = dash.query_one(CommandBar)
        dash._waiting = ["second"]  # acknowledged the first: "second" is about to be sent
        bar.value = "third"
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(store.read()) == 3)
        assert [e.data["text"] for e in store.read()[1:]] == ["second", "third"]


async def test_keys_in_one_burst_after_enter_start_the_next_line(make_app, store):
    """The bar empties itself on Enter, before the keys behind it in the same burst land."""
    from incident_tui.domain.commands import declare_event

    store.append([declare_event("a burst", "alice")])
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        bar = app.screen.query_one(CommandBar)
        bar.focus()
        for key in [*"one", "enter", *"two", "enter"]:  # queued at once, as a paste or tmux sends them
            bar.post_message(events.Key(key, key if len(key) == 1 else None))
        await wait_for(pilot, lambda: len(store.read()) == 3)
        assert [e.data["text"] for e in store.read()[1:]] == ["one", "two"]
