from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from incident_tui.domain.commands import declare_event
from incident_tui.domain.events import Event, EventError, new_event, uuid7
from incident_tui.domain.fold import fold
from incident_tui.domain.text import extract_tags, safe_text

T0 = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)


def seqd(events: list[Event]) -> list[Event]:
    return [e.with_seq(i) for i, e in enumerate(events, 1)]


def test_incidents_are_numbered_by_declaration_order_in_the_log() -> None:
    a = declare_event("first", "alice", at=T0)
    b = declare_event("second", "bob", at=T0 - timedelta(hours=1))  # earlier `at`, later in the log
    reg = fold(seqd([a, b, new_event(a.incident, "note", "x", {"text": "hi"})]))
    assert [s.title for s in reg.order] == ["first", "second"]
    assert reg.resolve("INC-2") is reg.resolve("2") is reg.resolve(b.incident) is reg.resolve(b.incident[:8])
    assert reg.resolve("INC-3") is None and reg.resolve("nonsense") is None


def test_fold_is_the_same_whole_or_incremental() -> None:
    d = declare_event("t", "alice", at=T0)
    events = seqd(
        [
            d,
            new_event(d.incident, "phase.set", "alice", {"phase": "mitigating"}, T0 + timedelta(minutes=5)),
            new_event(
                d.incident, "role.assigned", "alice", {"role": "commander", "user": "bob"}, T0 + timedelta(minutes=2)
            ),
            new_event(d.incident, "phase.set", "alice", {"phase": "monitoring"}, T0 + timedelta(minutes=20)),
            new_event(d.incident, "phase.set", "alice", {"phase": "resolved"}, T0 + timedelta(minutes=30)),
        ]
    )
    whole = fold(events).order[0]
    step = fold(events[:2])
    step.extend(events[2:])
    inc = step.order[0]
    assert (inc.phase, inc.commander, inc.mitigated_at, inc.resolved_at) == (
        whole.phase,
        whole.commander,
        whole.mitigated_at,
        whole.resolved_at,
    )
    assert whole.commander_first_at == T0 + timedelta(minutes=2)
    assert whole.elapsed(T0 + timedelta(days=3)) == timedelta(minutes=30)  # the clock stops at resolution
    assert not whole.active


def test_reopening_clears_the_end_time() -> None:
    d = declare_event("t", "alice", at=T0)
    reg = fold(
        seqd(
            [
                d,
                new_event(d.incident, "phase.set", "a", {"phase": "resolved"}),
                new_event(d.incident, "phase.set", "a", {"phase": "mitigating"}),
            ]
        )
    )
    assert reg.order[0].resolved_at is None and reg.order[0].active


def test_events_of_an_undeclared_incident_are_skipped_not_fatal() -> None:
    reg = fold(seqd([new_event("nope", "note", "a", {"text": "x"})]))
    assert reg.order == [] and reg.orphans == 1


@pytest.mark.parametrize(
    "bad, reason",
    [
        ({"kind": "note", "data": {}}, "data.text"),
        ({"kind": "telepathy"}, "unknown event kind"),
        ({"kind": "severity.set", "data": {"severity": "SEV9"}}, "unknown severity"),
        ({"kind": "checklist.set", "data": {"phase": "triage", "item": "x", "done": 1}}, "data.done"),
        ({"at": "yesterday"}, "ISO 8601"),
        ({"author": ""}, "author"),
    ],
)
def test_event_validation_gives_one_line_reasons(bad: dict, reason: str) -> None:
    base = new_event("i", "note", "alice", {"text": "x"}).to_dict()
    with pytest.raises(EventError, match=reason):
        Event.from_dict({**base, **bad})


def test_uuid7_is_time_ordered_and_versioned() -> None:
    ids = [uuid7() for _ in range(50)]
    assert all(i[14] == "7" for i in ids)
    assert len(set(ids)) == 50


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("\x1b]0;pwned\x07", "␛]0;pwned␇"),
        ("\x1b[2J", "␛[2J"),
        ("a\x9bb", "a<U+009B>b"),
        ("\u202eexe.txt", "<U+202E>exe.txt"),
        ("line1\nline2\ttab", "line1\nline2\ttab"),
        ("\x7f\x00", "␡␀"),
        ("[@click=app.quit]x[/]", "[@click=app.quit]x[/]"),  # markup is the renderer's job: kept as typed
    ],
)
def test_safe_text_shows_controls_instead_of_obeying_them(raw: str, shown: str) -> None:
    assert safe_text(raw) == shown


def test_safe_text_caps_length_and_can_flatten_lines() -> None:
    assert safe_text("x" * 10, 5) == "xxxx…"
    assert safe_text("a\nb", oneline=True) == "a ⏎ b"


def test_tags() -> None:
    assert extract_tags("pool #DB exhausted #db, see #checkout-api. not#tag ##x") == ["db", "checkout-api"]


def test_every_phase_ships_a_checklist_and_a_team_folder_replaces_phases(tmp_path) -> None:
    from incident_tui.domain.checklists import RunbookError, load_runbooks

    defaults = load_runbooks()
    assert all(defaults[p] for p in defaults)
    (tmp_path / "triage.toml").write_text('items = [{ id = "call-dba", text = "Call the DBA" }, "Check dashboards"]\n')
    team = load_runbooks(tmp_path)
    assert [i.text for i in team["triage"]] == ["Call the DBA", "Check dashboards"]
    assert team["mitigating"] == defaults["mitigating"]
    (tmp_path / "bogus.toml").write_text('phase = "lunch"\n')
    with pytest.raises(RunbookError, match=r"bogus\.toml: unknown phase .lunch."):
        load_runbooks(tmp_path)


def test_an_event_built_from_a_log_line_is_the_event_itself() -> None:
    """`build_event` (how a log's lines become events) makes an ordinary, frozen Event."""
    import copy
    import dataclasses
    import pickle

    from incident_tui.domain.events import build_event

    fields = ("0193", "inc", "2026-11-27T14:02:11.482Z", "bob", "note", {"text": "pool at 80%", "tags": []}, 7)
    built, made = build_event(*fields), Event(*fields)
    assert type(built) is Event and built == made and hash(built.id) == hash(made.id) and repr(built) == repr(made)
    assert built.text == "pool at 80%" and built.when == made.when
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.kind = "decision"  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(built)) == built == copy.copy(built)
    assert dataclasses.replace(built, seq=8).seq == 8 and built.seq == 7
