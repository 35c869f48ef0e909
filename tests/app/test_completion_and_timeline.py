"""Pure parts: completion candidates, the timeline filter, and a 100k-event timeline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from textual.app import App, ComposeResult

from incident_tui.domain.commands import declare_event
from incident_tui.domain.events import Event, format_at, new_event
from incident_tui.domain.fold import Registry
from incident_tui.ui.completion import complete
from incident_tui.ui.widgets.timeline import Timeline, TimelineFilter

from .conftest import FIXED_NOW


def state_with_people():
    reg = Registry()
    declared = declare_event("t", "alice", "SEV2").with_seq(1)
    state = reg.apply(declared)
    for i, (kind, data) in enumerate(
        [
            ("role.assigned", {"role": "scribe", "user": "bob"}),
            ("hypothesis", {"text": "db"}),
            ("hypothesis", {"text": "deploy"}),
            ("hypothesis.rejected", {"number": 1}),
            ("followup", {"text": "alert", "owner": "carol"}),
        ],
        2,
    ):
        reg.apply(Event(f"e{i}", declared.incident, declared.at, "bob", kind, data, i))
    return state


def test_completion_of_commands_arguments_and_people():
    s = state_with_people()
    assert complete("/dec", s) == ("/decision ", ["/decision"])
    assert complete("/phase tr", s)[0] == "/phase triage "
    assert complete("/assign s", s) == ("/assign s", ["scribe", "sme"])  # ambiguous: list them
    assert complete("/assign sme c", s)[0] == "/assign sme carol "
    assert complete("/handoff b", s)[0] == "/handoff bob "
    assert complete("/confirm ", s)[0] == "/confirm H2 "  # only the open hypothesis
    assert complete("/done ", s)[0] == "/done F1 "
    assert complete("/followup page @ca", s)[0] == "/followup page @carol "
    assert complete("/miti", s) == ("/mitigate ", ["/mitigate"])
    assert complete("/lesson w", s) == ("/lesson w", ["well", "wrong"])
    assert complete("/lesson l", s)[0] == "/lesson lucky "
    assert complete("/link ", s)[0] == "/link F1 "
    assert complete("/why rec", s)[0] == "/why recovery: "
    assert complete("/data", s)[0] == "/dataloss "
    assert complete("/backg", s)[0] == "/background "
    assert complete("a plain note", s) == ("a plain note", [])
    assert complete("//not a command", s) == ("//not a command", [])


def test_filter_matches_kind_author_tag_and_words():
    e = Event("1", "i", format_at(FIXED_NOW), "Carol", "obs", {"text": "Pool at 500 #db", "tags": ["db"]}, 1)
    assert TimelineFilter.parse("kind:obs")
    assert TimelineFilter.parse("kind:obs").matches(e)
    assert TimelineFilter.parse("@carol #db pool").matches(e)
    assert not TimelineFilter.parse("kind:decision").matches(e)
    assert not TimelineFilter.parse("@bob").matches(e)
    assert not TimelineFilter.parse("")


class _TimelineApp(App[None]):
    def __init__(self, events: list[Event]) -> None:
        super().__init__()
        self.events = events

    def compose(self) -> ComposeResult:
        yield Timeline(self.events)


async def test_a_100k_event_timeline_opens_scrolls_to_the_top_and_filters_in_one_pass():
    """How fast is bench/bench_timeline.py's to say (beside its baselines); this pins the behaviour."""
    base = FIXED_NOW - timedelta(days=2)
    events = [
        Event(str(i), "inc", format_at(base + timedelta(seconds=i)), f"user{i % 7}", "note", {"text": f"line {i}"}, i)
        for i in range(1, 100_001)
    ]
    app = _TimelineApp(events)
    async with app.run_test(size=(120, 40)) as pilot:
        tl = app.query_one(Timeline)
        while not (tl.max_scroll_y > 0 and tl.scroll_y == tl.max_scroll_y):  # opens at the newest
            await pilot.pause(0.01)
        assert tl.row_count == 100_000 and tl.following
        tl.scroll_home(animate=False, immediate=True)
        await pilot.pause(0.01)
        assert tl.scroll_y == 0
        # Live arrivals while reading back do not move the view.
        events.append(Event("x", "inc", format_at(FIXED_NOW), "bob", "note", {"text": "new"}, 100_001))
        tl.sync()
        assert tl.scroll_y == 0 and tl.new_below > 0
        # A filter over 100k events is one pass, at once.
        tl.set_filter(TimelineFilter.parse("@user3"))
        assert 14_000 < tl.row_count < 15_000


def test_completion_knows_people_from_other_incidents_after_this_ones():
    s = state_with_people()
    assert complete("/assign sme z", s, ["zoe"])[0] == "/assign sme zoe "
    assert complete("/handoff ", s, ["alice", "zoe"])[1] == ["alice", "bob", "carol", "zoe"]


async def test_a_theme_switch_redraws_the_timeline_in_the_new_colours():
    events = [Event("1", "inc", format_at(FIXED_NOW), "alice", "decision", {"text": "fail over"}, 1)]
    app = _TimelineApp(events)
    async with app.run_test(size=(80, 10)) as pilot:
        app.theme = "textual-dark"
        await pilot.pause()
        tl = app.query_one(Timeline)
        before = [seg.style for seg in tl.render_line(0)]
        app.theme = "textual-light"
        await pilot.pause()
        after = [seg.style for seg in tl.render_line(0)]
        assert before != after  # a cached row would keep the dark theme's colours


@pytest.mark.parametrize("backdated", [False, True])
async def test_a_timeline_from_the_index_is_put_in_time_order_without_reading_its_rows(
    tmp_path, monkeypatch: pytest.MonkeyPatch, backdated: bool
) -> None:
    # The index keeps each row's time: a million rows used to be read one by one for
    # their `at` before the first paint (3.3 s at 1M, bench_scale).
    from incident_tui.store import index as index_module
    from incident_tui.store.jsonfile import JsonStore

    base = FIXED_NOW - timedelta(days=1)
    declared = declare_event("Big one", "alice", "SEV2", "", at=base)
    notes = [
        new_event(declared.incident, "note", "bob", {"text": f"line {i}", "tags": []}, at=base + timedelta(seconds=i))
        for i in range(1, 3001)
    ]
    if backdated:  # typed late, about an early moment: shown where its time puts it
        notes.append(new_event(declared.incident, "note", "bob", {"text": "back then", "tags": []}, at=base))
    path = tmp_path / "big.jsonl"
    with JsonStore(path, index_min_bytes=0) as store:
        store.append([declared, *notes])
    reads = 0
    single, blocks = index_module.LogReader.event, index_module.LogReader.blocks

    def counted_event(self, seq):
        nonlocal reads
        reads += 1
        return single(self, seq)

    def counted_blocks(self, seqs):
        nonlocal reads
        reads += len(seqs)
        return blocks(self, seqs)

    monkeypatch.setattr(index_module.LogReader, "event", counted_event)
    monkeypatch.setattr(index_module.LogReader, "blocks", counted_blocks)
    with JsonStore(path, index_min_bytes=0) as store:
        rows = store.registry().incidents[declared.incident].timeline
        assert isinstance(rows, index_module.LogRows) and rows.at_keys() is not None
        app = _TimelineApp(rows)  # type: ignore[arg-type]
        async with app.run_test(size=(80, 24)) as pilot:
            tl = app.query_one(Timeline)
            while not (tl.max_scroll_y > 0 and tl.scroll_y == tl.max_scroll_y):
                await pilot.pause(0.01)
            assert tl.row_count == len(notes) + 1
            assert reads < 200  # the rows on screen (and their neighbours' heights), not 3000
            shown = [e.data.get("text") for e, _ in tl.visible_events()]
            assert shown[-1] == "line 3000"
            if backdated:
                tl.scroll_home(animate=False, immediate=True)
                await pilot.pause(0.01)
                first = [e.data.get("text") or e.kind for e, _ in tl.visible_events()][:3]
                assert first == ["incident.declared", "back then", "line 1"]
