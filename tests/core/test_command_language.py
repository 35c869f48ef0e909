"""Every row of SPEC section 4, through the parser and the fold."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from incident_tui.domain.checklists import load_runbooks
from incident_tui.domain.commands import CommandError, declare_event, parse, to_events
from incident_tui.domain.fold import Registry
from incident_tui.store.memory import MemoryStore

RUNBOOKS = load_runbooks()
TZ = timezone(timedelta(hours=1))
NOW = datetime(2026, 11, 27, 15, 0, tzinfo=TZ)


class War:
    """An incident in a memory store, driven by command lines."""

    def __init__(self) -> None:
        self.store = MemoryStore()
        self.reg = Registry()
        (declared,) = self.store.append([declare_event("Checkout down", "alice", "SEV2", at=NOW - timedelta(hours=2))])
        self.reg.extend([declared])
        self.state = self.reg.incidents[declared.incident]

    def do(self, line: str, who: str = "alice"):
        events = to_events(line, self.state, who, RUNBOOKS, now=NOW)
        self.reg.extend(self.store.append(events))
        return events

    def refused(self, line: str) -> str:
        before = self.store.latest_seq()
        with pytest.raises(CommandError) as exc:
            self.do(line)
        assert self.store.latest_seq() == before
        message = str(exc.value)
        assert "\n" not in message
        return message


@pytest.fixture
def war() -> War:
    return War()


def test_plain_text_is_a_note_with_its_tags(war: War) -> None:
    (e,) = war.do("p99 latency on checkout at 4s #db #Checkout")
    assert (e.kind, e.data["text"], e.data["tags"]) == (
        "note",
        "p99 latency on checkout at 4s #db #Checkout",
        ["db", "checkout"],
    )


def test_backdate_today_local_time(war: War) -> None:
    (e,) = war.do("@14:02 saw the first 502")
    assert e.when == datetime(2026, 11, 27, 14, 2, tzinfo=TZ)
    assert e.data["text"] == "saw the first 502"


def test_backdate_another_day_and_on_a_command(war: War) -> None:
    (e,) = war.do("@2026-11-26T23:50 /decision page the DBA")
    assert e.kind == "decision" and e.when == datetime(2026, 11, 26, 23, 50, tzinfo=TZ)


def test_backdate_after_midnight_means_yesterday() -> None:
    just_after_midnight = datetime(2026, 11, 27, 0, 5, tzinfo=TZ)
    cmd = parse("@23:58 failover started", just_after_midnight)
    assert cmd.at == datetime(2026, 11, 26, 23, 58, tzinfo=TZ)


def test_backdate_means_the_most_recent_past_time() -> None:
    morning = datetime(2026, 11, 27, 9, 0, tzinfo=TZ)
    assert parse("@14:02 saw it", morning).at == datetime(2026, 11, 26, 14, 2, tzinfo=TZ)


def test_a_time_just_ahead_of_the_clock_is_refused_not_moved_a_day_back() -> None:
    at_2354 = datetime(2026, 11, 27, 23, 54, tzinfo=TZ)
    with pytest.raises(CommandError) as exc:
        parse("@23:59 failover started", at_2354)
    assert str(exc.value) == "@23:59 is 5 min ahead of the clock (23:54); for yesterday write @2026-11-26T23:59"


def test_check_several_items_ticks_them_all_or_refuses(war: War) -> None:
    war.do("/phase triage")
    events = war.do("/check 3 4, 5")
    assert [(e.data["index"], e.data["done"]) for e in events] == [(3, True), (4, True), (5, True)]
    before = war.store.latest_seq()
    assert "not 9" in war.refused("/check 1 9")
    assert "item 4 is already ticked" in war.refused("/check 2 4")
    assert war.store.latest_seq() == before
    assert war.state.is_checked("triage", RUNBOOKS["triage"][1].id) is None  # item 2 untouched


@pytest.mark.parametrize("kind", ["decision", "action", "obs"])
def test_entry_kinds(war: War, kind: str) -> None:
    (e,) = war.do(f"/{kind} roll back v2.41")
    assert e.kind == kind and e.data["text"] == "roll back v2.41"
    assert war.state.timeline[-1].kind == kind


def test_hypotheses_are_numbered_and_settled(war: War) -> None:
    war.do("/hypothesis slow query")
    war.do("/hypothesis connection leak")
    war.do("/reject H1 primary is fine")
    war.do("/confirm h2")
    h1, h2 = war.state.hypotheses
    assert (h1.number, h1.status, h1.note) == (1, "rejected", "primary is fine")
    assert (h2.number, h2.status) == (2, "confirmed")
    assert war.refused("/confirm H3").startswith("no hypothesis H3 (open ones: none; settled: H1, H2)")


def test_update_resets_the_countdown(war: War) -> None:
    due_before = war.state.next_update_due()
    (e,) = war.do("/update investigating")
    assert e.kind == "update"
    assert war.state.next_update_due() == e.when + timedelta(minutes=60) != due_before


def test_severity(war: War) -> None:
    war.do("/sev 1")
    assert war.state.severity == "SEV1"
    war.do("/sev SEV3")
    assert war.state.severity == "SEV3"
    assert war.state.next_update_due() is None
    assert "/sev 1" in war.refused("/sev 6")
    assert "already" in war.refused("/sev 3")


def test_phase_with_prefixes(war: War) -> None:
    war.do("/phase tri")
    assert war.state.phase == "triage"
    assert "mitigating or monitoring" in war.refused("/phase m")
    war.do("/phase mit")
    assert war.state.phase == "mitigating"
    assert "phases:" in war.refused("/phase fixing")


def test_assign_and_release(war: War) -> None:
    war.do("/assign commander alice")
    war.do("/assign scribe @bob")
    war.do("/assign sme carol")
    war.do("/assign sme erin")
    assert war.state.roles == {"commander": ["alice"], "scribe": ["bob"], "sme": ["carol", "erin"]}
    war.do("/assign commander dave")
    assert war.state.commander == "dave"
    assert "several" in war.refused("/release sme")
    war.do("/release sme carol")
    war.do("/release scribe")
    assert war.state.roles["sme"] == ["erin"] and war.state.roles["scribe"] == []
    assert "roles:" in war.refused("/assign king bob")
    assert "nobody" in war.refused("/release deputy")


def test_handoff_gives_command_and_records_a_snapshot(war: War) -> None:
    war.do("/assign commander alice")
    role, snap = war.do("/handoff bob")
    assert (role.kind, role.data) == ("role.assigned", {"role": "commander", "user": "bob"})
    assert snap.kind == "snapshot" and snap.data["to"] == "bob" and snap.data["from"] == "alice"
    assert war.state.commander == "bob" and war.state.snapshots[-1].id == snap.id
    assert "already" in war.refused("/handoff bob")


def test_check_toggles_the_current_phase_item(war: War) -> None:
    war.do("/phase triage")
    (e,) = war.do("/check 2", who="bob")
    first = RUNBOOKS["triage"][1]
    assert e.data == {"phase": "triage", "item": first.id, "done": True, "index": 2, "text": first.text}
    assert war.state.is_checked("triage", first.id).by == "bob"
    war.do("/check 2")
    assert war.state.is_checked("triage", first.id) is None
    assert "1-" in war.refused("/check 99")


def test_incident_fields(war: War) -> None:
    war.do("/title EU checkout down")
    war.do("/summary 502s at payment")
    war.do("/impact 40% of EU orders fail")
    war.do("/category Availability")
    s = war.state
    assert (s.title, s.summary, s.impact, s.category) == (
        "EU checkout down",
        "502s at payment",
        "40% of EU orders fail",
        "availability",
    )
    assert "needs text" in war.refused("/title")


def test_detected_backdated_marks_impact_start(war: War) -> None:
    war.do("@13:40 /detected customer reports on twitter")
    assert war.state.impact_started_at == datetime(2026, 11, 27, 13, 40, tzinfo=TZ)


def test_followups_with_owner_and_due(war: War) -> None:
    (e,) = war.do("/followup Add pool alert @carol due:2026-12-11 #alerting")
    assert e.data == {"text": "Add pool alert #alerting", "tags": ["alerting"], "owner": "carol", "due": "2026-12-11"}
    war.do("/followup Canary deploys")
    war.do("/done F1")
    f1, f2 = war.state.followups
    assert f1.done and not f2.done and f2.owner is None
    assert "already done" in war.refused("/done F1")
    assert "YYYY-MM-DD" in war.refused("/followup x due:tomorrow")
    assert "F9" in war.refused("/done F9")


def test_rootcause_and_whys(war: War) -> None:
    war.do("/rootcause connection leak on retry")
    war.do("/why pool exhausted")
    war.do("/why retry path never closes")
    assert war.state.rootcause == "connection leak on retry"
    assert war.state.whys == ["pool exhausted", "retry path never closes"]


def test_resolve(war: War) -> None:
    (e,) = war.do("/resolve")
    assert e.data == {"phase": "resolved"}
    assert war.state.resolved_at == e.when and not war.state.active
    assert "already" in war.refused("/resolve")


def test_unknown_command_says_what_would_work(war: War) -> None:
    message = war.refused("/decsion roll back")
    assert "unknown command /decsion" in message and "/decision" in message


def test_double_slash_logs_a_note_starting_with_slash(war: War) -> None:
    (e,) = war.do("//var/log is full")
    assert (e.kind, e.data["text"]) == ("note", "/var/log is full")


@pytest.mark.parametrize("line", ["", "   ", "@14:02", "@25:99 x", "/assign commander", "/followup @bob"])
def test_refused_lines_write_nothing(war: War, line: str) -> None:
    war.refused(line)


def test_user_text_is_stored_as_typed(war: War) -> None:
    hostile = "[@click=app.quit]x[/] \x1b]0;pwned\x07 \u202egnp.exe"
    (e,) = war.do(hostile)
    assert e.data["text"] == hostile
