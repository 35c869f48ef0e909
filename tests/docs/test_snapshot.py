from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from incident_tui.demo import write_demo
from incident_tui.docs import IncidentNotFound, handoff_data, handoff_document, snapshot_data, snapshot_document
from incident_tui.domain.checklists import Runbooks
from incident_tui.domain.commands import Command, parse, to_events
from incident_tui.domain.events import Event
from incident_tui.domain.fold import fold
from incident_tui.store.memory import MemoryStore

from .conftest import DEMO_NOW, Demo, Script, normalize, set_tz
from .golden import check_golden, section

LATER = DEMO_NOW + timedelta(hours=3)


def _seq_of(demo: Demo, kind: str, **data: object) -> int:
    e = next(e for e in demo.events if e.kind == kind and all(e.data.get(k) == v for k, v in data.items()))
    assert e.seq is not None
    return e.seq


def test_demo_snapshot_matches_reviewed_golden_files(demo: Demo, runbooks: Runbooks) -> None:
    md = snapshot_document(demo.events, demo.incident, runbooks, DEMO_NOW, "md", None)
    check_golden("demo_snapshot.md", normalize(md, demo))
    js = snapshot_document(demo.events, demo.incident, runbooks, DEMO_NOW, "json", None)
    check_golden("demo_snapshot.json", normalize(js, demo))
    # Mid-incident, in mitigating, right after the rollback decision: the handoff that matters.
    at = _seq_of(demo, "decision")
    md = snapshot_document(demo.events, demo.incident, runbooks, DEMO_NOW, "md", at)
    check_golden("demo_snapshot_mitigating.md", normalize(md, demo))


def test_mid_incident_snapshot_tells_the_next_commander_what_is_going_on(demo: Demo, runbooks: Runbooks) -> None:
    at = _seq_of(demo, "decision")
    md = snapshot_document(demo.events, demo.incident, runbooks, DEMO_NOW, "md", at)
    head = md.split("\n## ")[0]
    assert md.startswith("# Handoff snapshot: INC-1 · Checkout failing with 502s for EU customers\n")
    assert f"seq {at}. Times are CET (UTC+01:00)." in head
    assert "- **Severity:** SEV1 (critical" in head
    assert "- **Phase:** mitigating since 15:07:00 (7m)" in head
    assert "- **Started:** 2026-11-27 14:58:00 CET by alice; elapsed 16m" in head
    # Last update 15:06 at SEV1 (every 30 min): due 15:36.
    assert "- **Next status update:** due 15:36:00 (in 22m)" in head
    roles = section(md, "## Roles")
    assert "- **commander:** alice" in roles
    assert "- **deputy:** _unassigned_" in roles
    assert "- **sme:** carol, erin" in roles
    impact = section(md, "## Summary and impact")
    assert "- **Impact:** EU customers cannot complete checkout; ~40% of EU orders failing" in impact
    hyps = section(md, "## Hypotheses").split("\n")
    assert hyps[0] == "- **H2** (open, erin): v2.41 leaks DB connections on the payment-retry path #deploy"
    assert hyps[1].startswith("- H1 rejected: orders-db-eu primary is overloaded by a slow query #db — primary load")
    assert section(md, "## Last decisions") == (
        "- 15:14:00 · alice: Roll back checkout-api EU to v2.40 instead of scaling the pool #rollback"
    )
    assert section(md, "## Last actions") == "_None recorded yet (`/action TEXT`)._"
    checklist = section(md, "## Checklist: mitigating (2 of 6 done)").split("\n")
    assert checklist[0] == "- [ ] 1. Record every action and decision in the timeline"
    # Hypotheses stated and an SME assigned: those items ticked themselves.
    assert checklist[1].startswith("- [x] 2. State hypotheses") and checklist[1].endswith("(automatic)")
    assert len(checklist) == 6
    assert section(md, "## Open follow-ups") == "_None open._"
    assert md.endswith(f"`incident-tui snapshot INC-1 --at-seq {at}` shows this snapshot again._\n")


def test_final_snapshot_lists_open_followups_and_what_is_not_due(demo: Demo, runbooks: Runbooks) -> None:
    md = snapshot_document(demo.events, demo.incident, runbooks, DEMO_NOW, "md", None)
    assert "- **Next status update:** none in phase resolved" in md
    assert "resolved 15:46:00, after 48m" in md
    followups = section(md, "## Open follow-ups").split("\n")
    assert followups == [
        "- **F1** Add an alert on DB pool saturation above 80% #alerting — @\u2060carol, due 2026-12-11",
        "- **F2** Close connections in payment-retry and add a leak test — @\u2060erin, due 2026-12-04",
        "- **F3** Load-test the retry path in staging before EU deploys — @\u2060erin, _no due date_",
        "- **F4** Canary EU deploys for 30 minutes before full rollout — _no owner_, _no due date_",
    ]
    assert "_No open hypotheses._" in section(md, "## Hypotheses")


@pytest.mark.parametrize("fmt", ["md", "json"])
def test_snapshot_at_an_earlier_seq_equals_snapshot_of_the_store_truncated_there(
    demo: Demo, runbooks: Runbooks, fmt: str
) -> None:
    other = Script(incident="0193f1c2-0000-7000-8000-00000000ffff")
    other.declare("Unrelated", "SEV4")
    # Interleave another incident so the cut is by store seq, not by this incident's events.
    events: list[Event] = []
    for e in demo.events:
        events.append(replace(e, seq=len(events) + 1))
        if e.seq == 3:
            events.append(replace(other.events[0], seq=len(events) + 1))
    for at_seq in range(events[0].seq or 1, len(events) + 1):
        full = snapshot_document(events, demo.incident, runbooks, DEMO_NOW, fmt, at_seq)
        truncated = events[:at_seq]
        assert full == snapshot_document(truncated, demo.incident, runbooks, LATER, fmt, at_seq), at_seq
        # ...and the truncated store's "now" snapshot, taken when its last event happened.
        last_at = max(e.when for e in truncated if e.incident == demo.incident)
        assert full == snapshot_document(truncated, demo.incident, runbooks, last_at, fmt, None), at_seq


def test_as_of_snapshot_never_reads_the_clock_but_a_live_one_does(demo: Demo, runbooks: Runbooks) -> None:
    at = 20
    a = snapshot_data(demo.events, demo.incident, runbooks, DEMO_NOW, at)
    b = snapshot_data(demo.events, demo.incident, runbooks, LATER, at)
    assert a == b
    assert a["seq"] == at
    assert a["as_of"] == demo.events[at - 1].at  # the demo's events are in time order after seq 2
    live = snapshot_data(demo.events, demo.incident, runbooks, LATER, None)
    assert live["as_of"] == "2026-11-27T18:00:00.000Z"
    # Resolved: elapsed stops at the resolution, whatever the clock says.
    assert live["elapsed_seconds"] == 48 * 60


def test_snapshot_json_is_the_documented_schema(demo: Demo, runbooks: Runbooks) -> None:
    d = json.loads(snapshot_document(demo.events, demo.incident, runbooks, DEMO_NOW, "json", 30))
    assert list(d) == [
        "schema", "version", "ref", "number", "id", "seq", "as_of", "title", "severity", "phase",
        "phase_entered_at", "category", "declared_at", "declared_by", "resolved_at", "elapsed_seconds",
        "roles", "summary", "impact", "hypotheses", "decisions", "decisions_total", "actions",
        "actions_total", "checklist", "followups_open", "followups_done", "next_update", "rootcause", "events",
        "handoff", "mitigations", "mitigations_total", "observations", "observations_total", "notes",
        "notes_total", "dataloss", "since_previous_handoff",
    ]  # fmt: skip
    assert d["since_previous_handoff"] is None  # the demo has no handoff
    assert [o["text"] for o in d["observations"]][-1].startswith("checkout-api v2.41 deployed to EU")
    assert d["handoff"] is None
    assert d["schema"] == "incident-tui/snapshot" and d["version"] == 1
    assert d["ref"] == "INC-1" and d["id"] == demo.incident and d["seq"] == 30
    assert list(d["roles"]) == ["commander", "deputy", "scribe", "comms", "sme"]
    assert d["checklist"]["phase"] == "mitigating" and d["checklist"]["done"] == 3
    assert [(i["n"], i["automatic"]) for i in d["checklist"]["done_items"]] == [(1, False), (2, True), (4, True)]
    assert d["next_update"] == {
        "due_at": "2026-11-27T14:36:00.000Z",
        "status": "due",
        "reason": "due",
        "cadence_minutes": 30,
        "last_update": {
            "seq": 20,
            "at": "2026-11-27T14:06:00.000Z",
            "author": "dave",
            "text": "We are investigating failed checkouts for EU customers. Next update in 30 min.",
            "tags": [],
        },
    }
    assert d["decisions"][0]["tags"] == ["rollback"]


def test_next_update_says_overdue_or_none_at_low_severity(script: Script, runbooks: Runbooks) -> None:
    script.declare(severity="SEV2")
    script.add(1, "role.assigned", {"role": "commander", "user": "alice"})
    md = snapshot_document(script.events, script.incident, runbooks, script.at(75), "md", None)
    assert "- **Next status update:** **OVERDUE** by 15m (was due 11:00:00)" in md
    d = snapshot_data(script.events, script.incident, runbooks, script.at(75))
    assert d["next_update"]["status"] == "overdue"
    script.add(76, "severity.set", {"severity": "SEV3"})
    md = snapshot_document(script.events, script.incident, runbooks, script.at(80), "md", None)
    assert "- **Next status update:** none at SEV3" in md


def test_a_fresh_incident_says_what_is_missing_instead_of_leaving_holes(script: Script, runbooks: Runbooks) -> None:
    script.declare()
    md = snapshot_document(script.events, script.incident, runbooks, script.at(2), "md", None)
    assert "- **commander:** _unassigned_" in md
    assert "- **Summary:** _none yet — set one with `/summary TEXT`_" in md
    assert "- **Impact:** _not described yet — `/impact TEXT`_" in md
    assert "_No open hypotheses — state one with `/hypothesis TEXT`._" in md
    assert "## Checklist: detected (0 of 4 done)" in md


def test_incident_numbers_count_every_declaration_before_it(demo: Demo, runbooks: Runbooks) -> None:
    first = Script(incident="0193f1c2-0000-7000-8000-000000000001")
    first.declare("Earlier incident")
    events = [first.events[0]] + [replace(e, seq=(e.seq or 0) + 1) for e in demo.events]
    d = snapshot_data(events, demo.incident, runbooks, DEMO_NOW)
    assert (d["ref"], d["number"]) == ("INC-2", 2)
    # The app holds each incident's own timeline only: it passes the number it knows.
    timeline = fold(events).incidents[demo.incident].timeline
    assert snapshot_data(timeline, demo.incident, runbooks, DEMO_NOW)["ref"] == "INC-1"  # the trap
    assert snapshot_data(timeline, demo.incident, runbooks, DEMO_NOW, number=2) == d


def test_snapshot_of_an_incident_not_declared_by_that_seq_is_refused(demo: Demo, runbooks: Runbooks) -> None:
    with pytest.raises(IncidentNotFound):
        snapshot_document(demo.events, "no-such-incident", runbooks, DEMO_NOW, "md", None)
    late = Script(incident="0193f1c2-0000-7000-8000-000000000002")
    late.declare()
    events = [*demo.events, replace(late.events[0], seq=len(demo.events) + 1)]
    with pytest.raises(IncidentNotFound, match="at or before seq 10"):
        snapshot_data(events, late.incident, runbooks, DEMO_NOW, at_seq=10)


def test_snapshot_renders_in_the_process_zone_and_names_it(
    demo: Demo, runbooks: Runbooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_tz(monkeypatch, "America/New_York")
    md = snapshot_document(demo.events, demo.incident, runbooks, DEMO_NOW, "md", 30)
    assert "Times are EST (UTC-05:00)." in md
    assert "- **Started:** 2026-11-27 08:58:00 EST by alice" in md
    set_tz(monkeypatch, "UTC")
    md = snapshot_document(demo.events, demo.incident, runbooks, DEMO_NOW, "md", 30)
    assert "Times are UTC." in md


def test_now_is_only_a_default_for_live_snapshots(script: Script, runbooks: Runbooks) -> None:
    script.declare(severity="SEV1")
    d = snapshot_data(script.events, script.incident, runbooks, datetime(2026, 3, 2, 9, 10, tzinfo=UTC))
    assert d["elapsed_seconds"] == 600


def test_handoff_snapshot_is_the_state_handed_over_timed_at_the_handoff(runbooks: Runbooks) -> None:
    store = MemoryStore()
    incident = write_demo(store, runbooks, now=DEMO_NOW, until="mitigating")
    state = fold(store.read()).incidents[incident]
    before = state.last_seq
    handoff_at = DEMO_NOW + timedelta(minutes=5)
    line = parse("/handoff frank", handoff_at)
    events = to_events(Command(line.name, line.args, handoff_at), state, "alice", runbooks)
    store.append(events)
    snap = store.read()[-1]
    assert snap.kind == "snapshot" and snap.data["at_seq"] == before

    md = handoff_document(store.read(), snap, runbooks, "md")
    assert f"**Command passes from alice to frank** at 16:05:00 (handoff recorded at seq {snap.seq})." in md
    assert f"_As of 2026-11-27 16:05:00 CET, seq {before}." in md
    assert "- **commander:** alice" in md  # the state as it was handed over
    # Timed at the handoff: the update due 15:36 was overdue when command changed hands.
    assert "- **Next status update:** **OVERDUE** by 29m (was due 15:36:00)" in md
    d = handoff_data(store.read(), snap, runbooks)
    assert d["handoff"] == {"from": "alice", "to": "frank", "at": snap.at, "by": "alice", "seq": snap.seq}
    # Anything written after the handoff changes nothing in it.
    store.append(to_events("/sev 2", fold(store.read()).incidents[incident], "frank", runbooks))
    assert handoff_document(store.read(), snap, runbooks, "md") == md


def test_markdown_cuts_long_lists_but_json_keeps_them(script: Script, runbooks: Runbooks) -> None:
    script.declare()
    for i in range(30):
        script.add(1 + i / 60, "hypothesis", {"text": f"idea {i + 1}"})
    for n in (3, 1, 2, 4, 5, 6, 7):  # settled out of number order: the newest settled are shown
        script.add(2 + n / 60, "hypothesis.rejected", {"number": n})
    for i in range(20):
        script.add(3, "followup", {"text": f"task {i + 1}"})
    md = snapshot_document(script.events, script.incident, runbooks, script.at(10), "md", None)
    hyps = section(md, "## Hypotheses").split("\n")
    assert hyps[0] == "- **H21** (open, alice): idea 21"
    assert hyps[9] == "- **H30** (open, alice): idea 30"
    assert hyps[10] == "- _and 13 older open ones (`incident-tui show INC-1`)_"
    assert [h.split(" ")[1] for h in hyps[11:16]] == ["H3", "H4", "H5", "H6", "H7"]
    assert hyps[16] == "- _and 2 more settled (`incident-tui show INC-1`)_"
    followups = section(md, "## Open follow-ups").split("\n")
    assert len(followups) == 16 and followups[-1] == "- _and 5 more open (`incident-tui show INC-1`)_"
    d = snapshot_data(script.events, script.incident, runbooks, script.at(10))
    assert len(d["hypotheses"]) == 30 and len(d["followups_open"]) == 20
