"""The second pass of the documents (SPEC 9) on an incident that has everything the demo
lacks (tests/docs/second_incident.py), with reviewed golden files."""

from __future__ import annotations

import json

from incident_tui.docs import handoff_document, postmortem_document, snapshot_document
from incident_tui.docs.postmortem import postmortem_data, postmortem_json
from incident_tui.domain.checklists import Runbooks

from .conftest import DEMO_NOW, Demo, Script, normalize
from .golden import check_golden, section
from .second_incident import build_second


def second(script: Script) -> Script:
    return build_second(script)


def test_second_incident_postmortem_matches_reviewed_golden_file(script: Script, runbooks: Runbooks) -> None:
    s = second(script)
    check_golden("second_postmortem.md", postmortem_document(s.state, runbooks, s.at(200)))


def test_second_incident_postmortem_json_matches_reviewed_golden_file(script: Script, runbooks: Runbooks) -> None:
    s = second(script)
    check_golden("second_postmortem.json", postmortem_json(s.state, runbooks, s.at(200)))


def test_second_incident_snapshot_matches_reviewed_golden_file(script: Script, runbooks: Runbooks) -> None:
    s = second(script)
    check_golden("second_snapshot.md", snapshot_document(s.events, s.incident, runbooks, s.at(200), "md"))
    handoff = [e for e in s.events if e.kind == "snapshot"][-1]
    check_golden("second_handoff.md", handoff_document(s.events, handoff, runbooks, "md"))


def test_demo_postmortem_json_matches_reviewed_golden_file(demo: Demo, runbooks: Runbooks) -> None:
    check_golden("demo_postmortem.json", normalize(postmortem_json(demo.state, runbooks, DEMO_NOW), demo))


def test_headline_numbers_run_from_when_impact_began(script: Script, runbooks: Runbooks) -> None:
    s = second(script)
    md = postmortem_document(s.state, runbooks, s.at(200))
    assert section(md, "## Summary").split("\n")[0] == (
        "- **Impact window:** from 2026-03-02 22:10:00 CET (impact began) to 2026-03-03 01:20:00 CET"
        " (mitigated, 3h 10m) and 2026-03-03 02:10:00 CET (resolved, 4h 00m)."
    )
    metrics = section(md, "## Metrics")
    assert "| Time to detect | 1h 30m | — | impact began 22:10:00 → declared 23:40:00 |" in metrics
    assert "| Time to mitigate | 3h 10m | 1h 40m | → monitoring 2026-03-03 01:20:00 |" in metrics
    d = postmortem_data(s.state, runbooks, s.at(200))
    assert d["metrics"]["from_impact_start"]["resolve_seconds"] == 4 * 3600
    assert d["metrics"]["from_declaration"]["resolve_seconds"] == 150 * 60


def test_what_restored_service_lists_the_mitigations_and_only_those(script: Script, runbooks: Runbooks) -> None:
    s = second(script)
    rc = section(postmortem_document(s.state, runbooks, s.at(200)), "## Root cause and resolution")
    restored = rc.split("### What restored service\n\n")[1].split("\n\n")[0].split("\n")
    assert restored == [
        "- 2026-03-03 00:06:00 Stopped the indexer on all nodes; the 0-hit rate stopped climbing (erin)",
        "- 2026-03-03 00:50:00 Restored shards 3-5 from the 03:00 snapshot (~300 GB -> 4.5 GB compressed) (carol)",
        "- 2026-03-03 01:15:00 Re-indexed the ~1,200 documents from the catalogue DB (erin)",
    ]
    assert "Restarted the indexer" not in rc  # the action that made it worse is in the Timeline only
    assert "### Five whys: impact\n\n1. Searches returned nothing" in rc
    assert "### Five whys: recovery\n\n1. Recovery took 2h 30m" in rc
    assert "_3 of five recorded; add more with `/why recovery: TEXT`._" in rc
    assert "- **H2** ruled out: The search-api v5.2 deploy broke the query parser" in rc


def test_plain_notes_lessons_data_loss_and_communication_have_their_place(script: Script, runbooks: Runbooks) -> None:
    s = second(script)
    md = postmortem_document(s.state, runbooks, s.at(200))
    timeline = section(md, "## Timeline")
    assert "| 23:44:00 | @\u2060team @\u2060everyone please stay off the search cluster" in timeline
    assert "| 2026-03-03 00:00:00 | Observation: After the restart" in timeline  # the day changes here
    assert "| 2026-03-02 22:10:00 | **Detected**: Customer reports via support" in timeline
    summary = section(md, "## Summary")
    assert (
        "- **Data lost:** Documents indexed between 03:00 and 22:05 (~1,200) are missing until re-indexed;"
        " none beyond the re-indexed documents" in summary
    )
    lessons = section(md, "## Lessons learned")
    assert "### What went well\n\n- The scribe's note of the 03:00 snapshot saved an hour" in lessons
    assert "### Where we got lucky\n\n- The catalogue DB was untouched" in lessons
    comms = section(md, "## Communication")
    assert "Cadence kept in 2 of 3 intervals (every 30m at SEV1, 60m at SEV2, while active)." in comms
    assert (
        "- Missed: 23:51:00 → the next update 2026-03-03 01:40:00, 1h 49m at SEV1 (due every 30m; 1h 19m late)."
        in comms
    )
    measures = section(md, "## Corrective and preventive measures")
    assert "| F2 | Hourly index snapshots (see #\u2060123 upstream) | erin | _no due date_ |" in measures
    assert "<https://tracker.example/SRCH-42> |" in measures


def test_snapshot_carries_observations_notes_data_loss_and_what_changed_since_the_last_handoff(
    script: Script, runbooks: Runbooks
) -> None:
    s = second(script)
    d = json.loads(snapshot_document(s.events, s.incident, runbooks, s.at(200), "json"))
    assert d["observations"][-1]["text"] == "0-hit rate 2.1%, back to baseline"
    assert d["notes"][0]["text"].startswith("@team @everyone")
    assert len(d["dataloss"]) == 2
    since = d["since_previous_handoff"]
    assert (since["from"], since["to"]) == ("frank", "grace")
    assert since["phase"] == {"then": "monitoring", "now": "resolved"}
    assert since["roles"] == {"commander": {"then": ["frank"], "now": ["grace"]}}
    md = snapshot_document(s.events, s.incident, runbooks, s.at(200), "md")
    assert "## Since the previous handoff (frank to grace at 01:30:00, seq " in md
    handoff = [e for e in s.events if e.kind == "snapshot"][-1]
    hmd = handoff_document(s.events, handoff, runbooks, "md")
    # The second handoff tells grace what happened since frank took over.
    changed = section(hmd, next(line for line in hmd.split("\n") if line.startswith("## Since the previous")))
    assert "- **Phase:** mitigating → monitoring" in changed
    assert "- **commander:** alice → frank" in changed
    assert "(data loss): Documents indexed between 03:00 and 22:05" in changed
    assert "## Last observations" in hmd and "Restore at 60% (shard 3 done, 4 in progress)" in hmd


def test_document_json_is_what_json_dumps_writes_even_past_64_bit_integers() -> None:
    from incident_tui.docs.snapshot import json_text

    data = {"a": [1, 2.5, None, True, "x\u2028\x1b"], "b": {"c": "é"}, "e": []}
    assert (
        json_text(data)
        == json.dumps(data, ensure_ascii=False, indent=2).replace("\u2028", "\\u2028").replace("\\u001b", "\\u001b")
        + "\n"
    )
    big = {"n": 2**70}
    assert json.loads(json_text(big)) == big  # orjson refuses it; the general path writes it
