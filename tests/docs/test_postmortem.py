from __future__ import annotations

from dataclasses import replace
from itertools import pairwise

import pytest

from incident_tui.docs import postmortem, postmortem_document, write_postmortem
from incident_tui.domain.checklists import Runbooks

from .conftest import DEMO_NOW, Demo, Script, normalize
from .golden import check_golden, section

SECTIONS = [
    "## Summary",
    "## Background",
    "## Timeline",
    "## Root cause and resolution",
    "## Lessons learned",
    "## Communication",
    "## Corrective and preventive measures",
    "## Metrics",
]


def test_demo_postmortem_matches_reviewed_golden_file(demo: Demo, runbooks: Runbooks) -> None:
    md = postmortem_document(demo.state, runbooks, DEMO_NOW)
    check_golden("demo_postmortem.md", normalize(md, demo))


def test_demo_postmortem_has_the_blameless_sections_in_order(demo: Demo, runbooks: Runbooks) -> None:
    md = postmortem_document(demo.state, runbooks, DEMO_NOW)
    headings = [line for line in md.split("\n") if line.startswith("## ")]
    assert headings == SECTIONS
    assert md.startswith("# Postmortem: INC-1 · Checkout failing with 502s for EU customers\n")
    assert "not who is to blame" in md.split("\n## ")[0]


def test_summary_gives_the_impact_window_from_impact_start_with_zone_and_root_cause(
    demo: Demo, runbooks: Runbooks
) -> None:
    summary = section(postmortem_document(demo.state, runbooks, DEMO_NOW), "## Summary").split("\n")
    assert summary[0] == (
        "- **Impact window:** from 2026-11-27 14:52:00 CET (impact began) to 2026-11-27 15:23:00 CET"
        " (mitigated, 31m) and 2026-11-27 15:46:00 CET (resolved, 54m)."
    )
    assert summary[1] == (
        "- **Detected:** PagerDuty: checkout-api 5xx rate above 5% for 5 minutes #alert;"
        " declared 2026-11-27 14:58:00 CET, 6m after impact began."
    )
    assert summary[2].startswith("- **Data lost:** _not recorded — `/dataloss TEXT`")
    assert "- **Impact:** EU customers cannot complete checkout; ~40% of EU orders failing" in summary
    assert "- **Severity:** SEV1 at peak (declared SEV2, escalated to SEV1 at 15:01:00)" in summary
    assert "- **Root cause:** v2.41 did not return DB connections to the pool on the payment-retry path" in summary
    assert "- **Responders:** commander alice; scribe bob; comms dave; sme carol, erin." in summary


def test_timeline_has_detection_notes_decisions_ruled_out_paths_escalation_and_resolution(
    demo: Demo, runbooks: Runbooks
) -> None:
    timeline = section(postmortem_document(demo.state, runbooks, DEMO_NOW), "## Timeline")
    note, _, *rows = timeline.split("\n")
    assert note.startswith("_Times are CET (UTC+01:00), sorted by when things happened")
    assert "the date is given where the day changes" in note
    assert rows[:2] == ["| Time | What happened | Who |", "|---|---|---|"]
    body = rows[2:]
    # The back-dated detection sorts first although it was typed after the declaration.
    assert body[0] == (
        "| 2026-11-27 14:52:00 | **Detected**: PagerDuty: checkout-api 5xx rate above 5% for 5 minutes #alert"
        " | pagerbot |"
    )
    assert (
        body[1] == "| 14:58:00 | **Incident declared** at SEV2: Checkout failing with 502s for EU customers | alice |"
    )
    expected_in_order = [
        "| 14:58:30 | Roles: alice is commander | alice |",
        "| 14:59:00 | Roles: bob is scribe · Checklist ticked: triage 2, 1 | alice, bob |",
        "| 15:01:00 | **Escalated** from SEV2 to SEV1 | alice |",
        "| 15:09:00 | **Ruled out** H1: orders-db-eu primary is overloaded by a slow query #db"
        " — primary load is normal; pool exhaustion comes from the client side | carol |",
        "| 15:12:00 | Connection count per pod climbs linearly since the deploy; no release of connections on retry"
        " | erin |",
        "| 15:14:00 | **Decision**: Roll back checkout-api EU to v2.40 instead of scaling the pool #rollback | alice |",
        "| 15:15:00 | **Action**: Started rollback of checkout-api EU to v2.40 #rollback | erin |",
        "| 15:19:00 | **Mitigation**: Rollback complete in eu-west-1 and eu-central-1 #rollback | erin |",
        "| 15:23:00 | **Mitigated**: phase monitoring, watching for recurrence | alice |",
        "| 15:46:00 | **Resolved**: normal operation restored | alice |",
    ]
    positions = [body.index(row) for row in expected_in_order]
    assert positions == sorted(positions)
    times = [row.split(" | ")[0][-8:] for row in body]
    assert times == sorted(times)
    # Ticks and role changes in a row share one line: no two such lines follow each other.
    minor = [row.startswith(("| ", "|")) and ("| Roles:" in row or "| Checklist" in row) for row in body]
    assert not any(a and b for a, b in pairwise(minor))


def test_root_cause_section_has_the_five_whys_as_recorded(demo: Demo, runbooks: Runbooks) -> None:
    body = section(postmortem_document(demo.state, runbooks, DEMO_NOW), "## Root cause and resolution")
    assert "### Root cause\n\nv2.41 did not return DB connections to the pool on the payment-retry path" in body
    whys = [line for line in body.split("\n") if line[:3] in {"1. ", "2. ", "3. ", "4. ", "5. "}]
    assert whys == [f"{i}. {w}" for i, w in enumerate(demo.state.whys, 1)]
    assert "- **H1** ruled out: orders-db-eu primary is overloaded" in body
    assert "- **H2** ruled in: v2.41 leaks DB connections" in body
    # What restored service is the /mitigate entry, not the decision and actions around it.
    restored = "- 15:19:00 Rollback complete in eu-west-1 and eu-central-1 #rollback (erin)"
    assert f"### What restored service\n\n{restored}" in body
    assert "Roll back checkout-api" not in body and "Started rollback" not in body
    assert "_2 other decisions and actions are in the Timeline._" in body
    assert body.endswith(
        "\n\n**Mitigated** 2026-11-27 15:23:00 CET (phase monitoring), 31m after impact began;"
        " **resolved** 2026-11-27 15:46:00 CET, 54m after impact began."
    )


def test_measures_are_grouped_with_owner_and_due_and_gaps_are_called_out(demo: Demo, runbooks: Runbooks) -> None:
    body = section(postmortem_document(demo.state, runbooks, DEMO_NOW), "## Corrective and preventive measures")
    assert body.split("\n") == [
        "### Open (4)",
        "",
        "| # | Action item | Owner | Due | Link |",
        "|---|---|---|---|---|",
        "| F1 | Add an alert on DB pool saturation above 80% #alerting | carol | 2026-12-11 | _no link_ |",
        "| F2 | Close connections in payment-retry and add a leak test | erin | 2026-12-04 | _no link_ |",
        "| F3 | Load-test the retry path in staging before EU deploys | erin | _no due date_ | _no link_ |",
        "| F4 | Canary EU deploys for 30 minutes before full rollout | _no owner_ | _no due date_ | _no link_ |",
        "",
        "- **Needs an owner:** F4 — a measure nobody owns rarely happens.",
        "- **Needs a due date:** F3, F4.",
        "- **Not filed in a tracker yet:** F1, F2, F3, F4 — `/link F1 URL` links one.",
    ]


def test_done_followups_move_to_their_own_group(script: Script, runbooks: Runbooks) -> None:
    script.declare()
    script.add(1, "followup", {"text": "Fix the index", "owner": "carol", "due": "2026-03-09"})
    script.add(2, "followup", {"text": "Write the runbook", "owner": "bob", "due": "2026-03-10"})
    script.add(3, "followup.done", {"number": 1})
    body = section(postmortem_document(script.state, runbooks, script.at(5)), "## Corrective and preventive measures")
    head = "| # | Action item | Owner | Due | Link |\n|---|---|---|---|---|\n"
    assert f"### Open (1)\n\n{head}| F2 | Write the runbook" in body
    assert f"### Done (1)\n\n{head}| F1 | Fix the index" in body
    assert "Needs an owner" not in body
    script.add(4, "followup.done", {"number": 2})
    body = section(postmortem_document(script.state, runbooks, script.at(5)), "## Corrective and preventive measures")
    assert body.startswith("### Open (0)\n\n_None: every follow-up is done._\n\n### Done (2)")


def test_an_unfinished_incident_says_what_is_missing_in_place(script: Script, runbooks: Runbooks) -> None:
    script.declare()
    script.add(2, "note", {"text": "looking"})
    md = postmortem_document(script.state, runbooks, script.at(30))
    summary = section(md, "## Summary")
    assert summary.split("\n")[0] == (
        "- **Impact window:** from 2026-03-02 10:00:00 CET (declared; when impact began is not recorded —"
        " `@HH:MM /detected TEXT` back-dated to it); 30m so far, _not mitigated or resolved yet (phase detected)"
        " — `/phase monitoring`, then `/resolve`._"
    )
    assert "- **Root cause:** _No root cause recorded yet — add one with `/rootcause TEXT`._" in summary
    assert "- **Impact:** _not described — add it with `/impact TEXT`._" in summary
    assert (
        "- **Detected:** _not recorded — `/detected TEXT` says how (`@HH:MM` in front: when impact began)._" in summary
    )
    assert "- **Data lost:** _not recorded — `/dataloss TEXT` says what was lost or put at risk" in summary
    assert "- **Responders:** no commander assigned." in summary
    assert section(md, "## Background").startswith("_No background recorded — `/background TEXT` adds")
    assert "| 10:02:00 | looking | alice |" in section(md, "## Timeline")  # a plain note is a row
    rc = section(md, "## Root cause and resolution")
    assert "_No whys recorded yet — ask why five times with `/why TEXT` (`/why recovery: TEXT` starts" in rc
    assert "_No hypotheses were recorded._" in rc
    assert "_No mitigation recorded — `/mitigate TEXT` marks what reduced or ended the impact._" in rc
    assert rc.endswith(
        "_not mitigated yet (`/phase monitoring` marks it)_; _not resolved yet (`/resolve` records the end time)._"
    )
    lessons = section(md, "## Lessons learned")
    for cmd in ("/lesson well TEXT", "/lesson wrong TEXT", "/lesson lucky TEXT"):
        assert f"_None recorded — `{cmd}`._" in lessons
    comms = section(md, "## Communication")
    assert "_No status updates recorded — `/update TEXT` records one and restarts the clock._" in comms
    assert section(md, "## Corrective and preventive measures") == (
        "_No follow-ups recorded yet — add them with `/followup TEXT @owner due:YYYY-MM-DD link:URL`._"
    )
    metrics = section(md, "## Metrics")
    assert "| Time to acknowledge | _no commander yet_ | _no commander yet_ |" in metrics
    assert "| Time to resolve | _not resolved yet_ | _not resolved yet_ | → phase resolved |" in metrics
    assert "### Time at each severity (declared → now, still open)" in metrics


def test_fewer_than_five_whys_are_shown_as_recorded_with_a_nudge(script: Script, runbooks: Runbooks) -> None:
    script.declare()
    script.add(1, "rootcause", {"text": "The index was dropped"})
    script.add(2, "why", {"text": "A migration dropped it"})
    rc = section(postmortem_document(script.state, runbooks, script.at(5)), "## Root cause and resolution")
    assert (
        "### Five whys: impact\n\n1. A migration dropped it\n\n_1 of five recorded; add more with `/why TEXT`._" in rc
    )


def test_postmortem_shows_a_handoff_and_a_reopening(script: Script, runbooks: Runbooks) -> None:
    script.declare()
    script.add(1, "role.assigned", {"role": "commander", "user": "alice"})
    script.add(10, "role.assigned", {"role": "commander", "user": "frank"})
    script.add(10, "snapshot", {"at_seq": 2, "to": "frank", "from": "alice"})
    script.add(20, "phase.set", {"phase": "resolved"})
    script.add(25, "phase.set", {"phase": "mitigating"}, author="frank")
    script.add(40, "phase.set", {"phase": "resolved"}, author="frank")
    md = postmortem_document(script.state, runbooks, script.at(60))
    timeline = section(md, "## Timeline")
    assert "| 10:10:00 | **Handoff** from alice to frank (snapshot as of seq 2) | alice |" in timeline
    assert "| 10:25:00 | **Reopened**: phase mitigating | frank |" in timeline
    assert timeline.count("**Resolved**") == 2
    assert "- **Responders:** commander alice, frank." in md
    assert "| Time to resolve | _impact start unknown_ | 40m | → resolved 10:40:00 |" in md


def test_postmortem_days_and_zone_changes_are_spelled_out(script: Script, runbooks: Runbooks) -> None:
    # Berlin leaves summer time at 01:00 UTC on 2026-10-25: the timeline must say so.
    script.t0 = script.t0.replace(year=2026, month=10, day=24, hour=21)
    script.declare()
    script.add(60 * 4, "phase.set", {"phase": "resolved"})
    md = postmortem_document(script.state, runbooks, script.at(300))
    assert "All times are CEST (UTC+02:00), then CET (UTC+01:00) where marked." in md
    assert "| 2026-10-24 23:00:00 | **Incident declared** at SEV3: Search is slow | alice |" in md
    assert "| 2026-10-25 02:00:00 CET | **Resolved**: normal operation restored | alice |" in md
    assert "from 2026-10-24 23:00:00 CEST (declared;" in md
    assert "to 2026-10-25 02:00:00 CET (resolved, 4h 00m)." in md


def test_times_written_in_another_iso_form_sort_and_show_like_the_rest(script: Script, runbooks: Runbooks) -> None:
    script.declare()
    late = script.add(5, "decision", {"text": "written by another tool"})
    script.events[-1] = replace(late, at="2026-03-02T09:05:30+00:00")  # same instant family, no millis, no Z
    script.add(3, "action", {"text": "typed earlier"})
    timeline = section(postmortem_document(script.state, runbooks, script.at(10)), "## Timeline")
    rows = [line for line in timeline.split("\n") if line.startswith(("| 10:", "| 2026-03-02 10:"))]
    assert rows == [
        "| 2026-03-02 10:00:00 | **Incident declared** at SEV3: Search is slow | alice |",
        "| 10:03:00 | **Action**: typed earlier | alice |",
        "| 10:05:30 | **Decision**: written by another tool | alice |",
    ]


def test_the_postmortem_written_in_pieces_is_the_document(
    script: Script, runbooks: Runbooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`write_postmortem` (the CLI's, for a 1M-row timeline) hands over pieces that add up
    to `postmortem_document` byte for byte, wherever a piece ends."""
    script.declare()
    for i in range(400):  # rows over many minutes and two days, role changes among them
        if i % 37 == 0:
            script.add(i * 7.5, "role.assigned", {"role": "sme", "user": f"sme{i}"})
        script.add(i * 7.5, "note", {"text": f"note {i}" if i % 5 else ""}, ("bob", "carol")[i % 2])
    state = script.state
    whole = postmortem_document(state, runbooks, script.at(3000))
    for piece in (1, 3, 50, 10_000):
        monkeypatch.setattr(postmortem, "_PIECE", piece)
        pieces: list[str] = []
        write_postmortem(state, runbooks, script.at(3000), pieces.append)
        assert "".join(pieces) == whole
        assert len(pieces) > 1 or piece == 10_000
