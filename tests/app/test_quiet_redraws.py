"""A window that only watches costs little: others' events are redrawn in batches, a line
typed here at once, the clock repaints its label without laying the screen out, the
scrollbar repaints only when its thumb moves, the cursor stops blinking when nobody types,
and the list under a dashboard keeps still. (How much CPU that saves is
bench/bench_follow.py's to say.)"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from textual.widget import Widget

from incident_tui.store.jsonfile import JsonStore
from incident_tui.ui.screens import dashboard, incidents
from incident_tui.ui.screens.dashboard import DashboardScreen
from incident_tui.ui.screens.incidents import IncidentListScreen
from incident_tui.ui.widgets import command_bar
from incident_tui.ui.widgets.command_bar import CommandBar
from incident_tui.ui.widgets.header import IncidentHeader
from incident_tui.ui.widgets.timeline import Timeline

from .conftest import FIXED_NOW, wait_for
from .helpers import demo, log, timeline_lines


async def test_others_events_wait_for_the_next_redraw_and_a_line_typed_here_brings_them_at_once(
    make_app, store, store_path, runbooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dashboard, "LIVE_REDRAW_SECONDS", 3600.0)  # the second of a stream waits "for ever"
    incident = demo(store, runbooks)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        screen = app.screen
        tl = screen.query_one(Timeline)
        other = JsonStore(store_path)
        try:
            # The first after a quiet spell is drawn at once ... (the mount drew the screen just
            # now: let that interval pass first)
            screen._drawn_at = time.monotonic() - 3600.0
            log(other, runbooks, incident, "first of a stream", author="carol")
            await wait_for(pilot, lambda: "first of a stream" in timeline_lines(screen)[-1])
            rows = tl.row_count
            # ... the next waits for the end of the interval: folded (commands read it), not drawn yet.
            log(other, runbooks, incident, "second of a stream", author="carol")
            await wait_for(pilot, lambda: app.registry.last_seq == store.latest_seq())
            assert screen.state.timeline[-1].data["text"] == "second of a stream"
            assert tl.row_count == rows and screen._redraw_timer is not None
        finally:
            other.close()
        # A line typed here is drawn at once, with what waited.
        await pilot.press(*"typed here", "enter")
        await wait_for(pilot, lambda: tl.row_count == rows + 2)
        waited, typed = timeline_lines(screen)[-2:]
        assert "second of a stream" in waited and "typed here" in typed
        status = str(screen.query_one("#tl-status").render())
        assert f"{rows + 2} entries" in status  # the status line came with them


async def test_an_event_whose_spread_redraw_is_already_due_is_drawn_not_lost(
    make_app, store, store_path, runbooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The spread can bring a redraw's wait to nothing: a timer of no delay never fires in
    # Textual, and a dashboard that waited on one showed no one else's line again (seen
    # over SSH: one person never saw the other's notes).
    monkeypatch.setattr(dashboard.random, "uniform", lambda low, high: low)  # the earliest
    incident = demo(store, runbooks)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        screen = app.screen
        other = JsonStore(store_path)
        try:
            # Drawn 0.3 s ago: the interval's 0.2 s left, less the spread's 0.2 s, is nothing.
            screen._drawn_at = time.monotonic() - 0.3
            log(other, runbooks, incident, "due at once", author="carol")
            await wait_for(pilot, lambda: "due at once" in timeline_lines(screen)[-1])
            log(other, runbooks, incident, "and the next one", author="carol")
            await wait_for(pilot, lambda: "and the next one" in timeline_lines(screen)[-1])
        finally:
            other.close()


async def test_the_clock_ticks_without_laying_out_the_screen(
    make_app, store, runbooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dashboard, "TICK_SECONDS", 0.02)
    demo(store, runbooks)
    app = make_app()
    seconds = iter(range(10**6))
    app.room.clock = lambda: FIXED_NOW + timedelta(seconds=next(seconds))  # a second a tick
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        clock = app.screen.query_one("#hdr-clock")
        shown = str(clock.render())
        await wait_for(pilot, lambda: str(clock.render()) != shown)
        header = app.screen.query_one(IncidentHeader)
        layouts = 0
        original = Widget.refresh

        def counted(self: Widget, *args, **kw) -> Widget:
            nonlocal layouts
            layouts += bool(kw.get("layout")) and header in self.ancestors_with_self
            return original(self, *args, **kw)

        monkeypatch.setattr(Widget, "refresh", counted)
        for _ in range(3):  # the clock moves ...
            shown = str(clock.render())
            await wait_for(pilot, lambda: str(clock.render()) != shown)  # noqa: B023 (waited on here)
        assert layouts == 0  # ... and, its width the same, asks for no layout of the screen


async def test_the_scrollbar_repaints_when_its_thumb_moves_and_not_otherwise(
    make_app, store, runbooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo(store, runbooks, until="monitoring")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        tl = app.screen.query_one(Timeline)
        bar = tl.vertical_scrollbar
        await wait_for(pilot, lambda: bar._drawn is not None and bar._drawn[1] is not None)
        at_bottom = bar._drawn
        repaints = 0
        original = Widget.refresh

        def counted(self: Widget, *args, **kw) -> Widget:
            nonlocal repaints
            repaints += self is bar
            return original(self, *args, **kw)

        monkeypatch.setattr(Widget, "refresh", counted)
        bar.refresh()  # what Textual does whenever the height or the offset is set, changed or not
        assert repaints == 0
        await pilot.press("pageup")
        await wait_for(pilot, lambda: bar._drawn != at_bottom)  # the thumb went up: repainted
        assert bar._drawn[1][0] < at_bottom[1][0]


async def test_the_cursor_stops_blinking_when_nobody_types_and_a_key_starts_it_again(
    make_app, store, runbooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(command_bar, "BLINK_SECONDS", 0.05)
    demo(store, runbooks)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        bar = app.screen.query_one(CommandBar)
        bar.cursor_blink = True  # the tests' fixture turns blinking off; this test wants it
        bar._last_key = time.monotonic()
        bar.set_timer(0.05, bar._still)
        await wait_for(pilot, lambda: not bar.cursor_blink)
        assert bar._cursor_visible  # steady, not hidden
        monkeypatch.setattr(command_bar, "BLINK_SECONDS", 3600.0)
        await pilot.press("x")
        assert bar.cursor_blink


async def test_the_list_under_a_dashboard_does_not_rebuild_on_its_ages_tick(
    make_app, store, runbooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Textual counts the list under a dashboard as current; its rebuild repainted the
    # whole dashboard (and its footer) every 15 s while nothing happened.
    monkeypatch.setattr(incidents, "AGES_SECONDS", 0.02)
    ticks = rebuilds = 0
    tick, rebuild = IncidentListScreen._tick, IncidentListScreen.refresh_rows

    def counted_tick(self: IncidentListScreen) -> None:
        nonlocal ticks
        ticks += 1
        tick(self)

    def counted_rebuild(self: IncidentListScreen) -> None:
        nonlocal rebuilds
        rebuilds += 1
        rebuild(self)

    monkeypatch.setattr(IncidentListScreen, "_tick", counted_tick)
    monkeypatch.setattr(IncidentListScreen, "refresh_rows", counted_rebuild)
    demo(store, runbooks)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        await pilot.pause()
        ticks = rebuilds = 0
        await wait_for(pilot, lambda: ticks >= 5)
        assert rebuilds == 0
        await pilot.press("f2")  # shown again: rebuilt, and its ages tick again
        await wait_for(pilot, lambda: isinstance(app.screen, IncidentListScreen))
        await wait_for(pilot, lambda: rebuilds >= 2)
