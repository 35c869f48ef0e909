"""The timeline reads like a chat log: rows wrap under a hanging gutter, sit in the order
things happened (back-dated ones marked ↶), and a date line opens each day."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from incident_tui.domain.commands import declare_event, to_events
from incident_tui.domain.events import format_at
from incident_tui.domain.fold import Registry
from incident_tui.ui.screens.dashboard import DashboardScreen
from incident_tui.ui.widgets.command_bar import CommandBar
from incident_tui.ui.widgets.timeline import GUTTER, Timeline, _Heights

from .conftest import FIXED_NOW, wait_for
from .helpers import timeline_lines

NOTE_300 = (
    "Failover to eu-central finished at 00:20 but replica lag kept growing: the old primary "
    "accepted writes for about ninety seconds before fencing, so some orders exist only there. "
    "We will not fail back until the DBA team has diffed both sides and support has the list "
    "of affected orders by customer and region. END"
)
assert len(NOTE_300) >= 300


def log_at(store, runbooks, incident: str, line: str, at: datetime, author: str = "bob") -> None:
    reg = Registry()
    reg.extend(store.read())
    events = to_events(line, reg.incidents[incident], author, runbooks)
    store.append([replace(e, at=format_at(at)) for e in events])


def overnight(store, runbooks) -> str:
    """An incident that runs past midnight, with a note typed late about 23:58."""
    start = FIXED_NOW.replace(hour=23, minute=40) - timedelta(days=1)  # Thu 26 Nov 23:40 UTC
    declared = declare_event("Orders missing after failover", "alice", "SEV1", at=start)
    store.append([declared])
    incident = declared.incident
    log_at(store, runbooks, incident, "/assign scribe bob", start + timedelta(minutes=1), "alice")
    log_at(store, runbooks, incident, "/hypothesis replica lag hides the last writes", start + timedelta(minutes=10))
    log_at(store, runbooks, incident, "/action failing over to eu-central", start + timedelta(minutes=30), "alice")
    log_at(store, runbooks, incident, NOTE_300, start + timedelta(minutes=41))
    # Typed after the 00:10 and 00:21 rows, about 23:58 the day before: it goes above them, marked.
    log_at(store, runbooks, incident, "/obs writes still landing on the old primary", start + timedelta(minutes=18))
    fence = "/followup fence the old primary within 10 s @dave"
    log_at(store, runbooks, incident, fence, start + timedelta(minutes=50))
    return incident


def on_screen(tl: Timeline) -> list[str]:
    return [tl.render_line(y).text.rstrip() for y in range(tl.scrollable_content_region.height)]


async def test_rows_sit_in_time_order_with_back_dated_ones_marked_and_a_date_line_per_day(make_app, store, runbooks):
    overnight(store, runbooks)
    app = make_app(user="bob")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.query(Timeline))
        tl = app.screen.query_one(Timeline)
        await wait_for(pilot, lambda: tl.row_count == 7)
        rows = timeline_lines(app.screen)
        times = [row[:5] for row in rows]
        assert times == ["23:40", "23:41", "23:50", "23:58", "00:10", "00:21", "00:30"]  # as they happened
        late = next(r for r in rows if "old primary" in r and "OBS" in r)
        assert late.startswith("23:58↶ bob")  # back-dated: marked
        assert sum("↶" in r[:6] for r in rows) == 1
        assert next(r for r in rows if "replica lag" in r).split()[2] == "H1"  # H/F numbers on their rows
        assert next(r for r in rows if "fence the old primary" in r).split()[2] == "F1"
        shown = on_screen(tl)
        assert shown[0].startswith("── Thu 26 Nov 2026 ──")
        day_two = next(i for i, line in enumerate(shown) if line.startswith("── Fri 27 Nov 2026 ──"))
        assert shown[day_two + 1].startswith("00:10")


async def test_a_scribe_at_80x24_reads_a_300_character_note_in_full_without_a_key(make_app, store, runbooks):
    overnight(store, runbooks)
    app = make_app(user="bob")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.query(CommandBar))
        note = NOTE_300.replace("END", "THE-END")
        bar = app.screen.query_one(CommandBar)
        bar.value = note
        before = store.latest_seq()
        await pilot.press("enter")
        await wait_for(pilot, lambda: store.latest_seq() > before and bar.value == "")
        tl = app.screen.query_one(Timeline)
        await wait_for(pilot, lambda: any("THE-END" in line for line in on_screen(tl)))
        shown = on_screen(tl)
        last = max(i for i, line in enumerate(shown) if "THE-END" in line)
        first = max(i for i in range(last + 1) if "Failover to" in shown[i])
        assert shown[first][5:].startswith("  bob ")  # its own row: time, author, then the text
        rows = shown[first : last + 1]
        assert all(len(line) <= 79 for line in rows)  # within the width, beside the scrollbar
        assert all(line.startswith(" " * GUTTER) for line in rows[1:])  # the hanging gutter
        text = " ".join(line[GUTTER:].strip() for line in rows)
        assert text == " ".join(note.split())


async def test_a_resize_rewraps_the_rows_on_screen(make_app, store, runbooks):
    overnight(store, runbooks)
    app = make_app(user="bob")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.query(Timeline))
        tl = app.screen.query_one(Timeline)
        await wait_for(pilot, lambda: any("END" in line for line in on_screen(tl)))
        narrow = sum(1 for line in on_screen(tl) if line.startswith(" " * GUTTER))
        width = tl.scrollable_content_region.width
        await pilot.resize_terminal(200, 40)
        await wait_for(pilot, lambda: tl.scrollable_content_region.width > width + 40)
        await wait_for(pilot, lambda: any("END" in line for line in on_screen(tl)))
        wide = sum(1 for line in on_screen(tl) if line.startswith(" " * GUTTER))
        assert wide < narrow
        assert tl.following and int(tl.scroll_y) == tl.max_scroll_y


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_chat_log_timeline(snap_compare, make_app, store, runbooks, size):
    overnight(store, runbooks)
    app = make_app(theme="incident-dark")

    async def ready(pilot) -> None:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.query(Timeline))
        tl = app.screen.query_one(Timeline)
        await wait_for(pilot, lambda: tl.row_count == 7 and any("END" in line for line in on_screen(tl)))

    assert snap_compare(app, terminal_size=size, run_before=ready)


def test_row_heights_answer_like_a_plain_list() -> None:
    """The Fenwick tree against the obvious computation, through growth and re-measuring."""
    rng = random.Random(11)
    heights, plain = _Heights(), []
    for step in range(400):
        if rng.random() < 0.3:
            n = len(plain) + rng.randint(1, 20)
            heights.grow(n)
            plain.extend([0] * (n - len(plain)))
        if plain:
            r = rng.randrange(len(plain))
            h = rng.choice([0, 1, 2, 5, 40])
            heights.set(r, h)
            plain[r] = h
        lines = [max(h, 1) for h in plain]
        starts = [sum(lines[:r]) for r in range(len(lines))]
        assert heights.total() == sum(lines), step
        for r in range(len(plain)):
            assert heights.start(r) == starts[r]
        for y in range(sum(lines)):
            row = heights.find(y)
            assert starts[row] <= y < starts[row] + lines[row]


async def test_at_40_columns_the_author_moves_into_the_text(make_app, store, runbooks):
    overnight(store, runbooks)
    app = make_app(user="bob")
    async with app.run_test(size=(40, 12)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.query(Timeline))
        tl = app.screen.query_one(Timeline)
        await wait_for(pilot, lambda: any("F1" in line for line in on_screen(tl)))
        (row,) = [line for line in on_screen(tl) if line.startswith("00:30")]
        assert row.startswith("00:30  F1    bob: fence the old")  # 13 columns of gutter, then who


async def test_scrolling_up_through_rows_not_yet_measured_moves_one_line_at_a_time(make_app, store, runbooks):
    start = FIXED_NOW - timedelta(hours=3)
    declared = declare_event("Long notes", "alice", "SEV2", at=start)
    store.append([declared])
    for n in range(60):
        words = " ".join(f"w{n}.{i}" for i in range(8 + (n * 7) % 40))  # 1 to 4 rows each
        log_at(store, runbooks, declared.incident, f"note {n} {words}", start + timedelta(minutes=n))
    app = make_app(user="bob")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.query(Timeline))
        tl = app.screen.query_one(Timeline)
        await wait_for(pilot, lambda: tl.row_count == 61 and tl.following and tl.scroll_y == tl.max_scroll_y > 0)
        seen = on_screen(tl)
        for _ in range(40):  # up, one line at a time, into rows measured only as they appear
            tl.scroll_to(y=tl.scroll_y - 1, animate=False, immediate=True)
            await pilot.pause()
            now = on_screen(tl)
            assert now[1:] == seen[:-1]
            seen = now
        assert not tl.following and tl.new_below > 0
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: tl.following and tl.scroll_y == tl.max_scroll_y)
        assert "note 59" in " ".join(on_screen(tl))
