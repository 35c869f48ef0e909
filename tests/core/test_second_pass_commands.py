"""The commands SPEC section 4 added for the documents' second pass (SPEC 9)."""

from __future__ import annotations

import pytest

from .test_command_language import War


@pytest.fixture
def war() -> War:
    return War()


def test_mitigate_dataloss_and_background_are_entries_of_their_kind(war: War) -> None:
    (e,) = war.do("@14:10 /mitigate Rolled back to v2.40 #rollback")
    assert (e.kind, e.data) == ("mitigation", {"text": "Rolled back to v2.40 #rollback", "tags": ["rollback"]})
    assert e.at.startswith("2026-11-27T13:10")
    war.do("/dataloss none: the database was never touched")
    war.do("/background Checkout runs on 3 pods behind one pool")
    s = war.state
    assert [m.text for m in s.mitigations] == ["Rolled back to v2.40 #rollback"]
    assert [d.text for d in s.dataloss] == ["none: the database was never touched"]
    assert [b.text for b in s.background] == ["Checkout runs on 3 pods behind one pool"]


def test_lessons_go_to_their_sort(war: War) -> None:
    war.do("/lesson well The scribe noted the snapshot")
    war.do("/lesson WRONG We restarted the indexer")
    war.do("/lesson lucky The DB was untouched")
    assert {k: [e.text for e in v] for k, v in war.state.lessons.items()} == {
        "well": ["The scribe noted the snapshot"],
        "wrong": ["We restarted the indexer"],
        "lucky": ["The DB was untouched"],
    }


def test_whys_go_to_named_chains_and_default_to_impact(war: War) -> None:
    war.do("/why The pool was exhausted")
    war.do("/why recovery: The snapshot was 20 hours old")
    war.do("/why Recovery: Snapshots run daily")
    war.do("/why see https://example.com/x: a URL is not a chain name")
    assert war.state.why_chains == {
        "impact": ["The pool was exhausted", "see https://example.com/x: a URL is not a chain name"],
        "recovery": ["The snapshot was 20 hours old", "Snapshots run daily"],
    }
    assert war.state.whys[1] == "The snapshot was 20 hours old"


def test_followup_links_by_option_and_by_link(war: War) -> None:
    (e,) = war.do("/followup Hourly snapshots (#1105) @erin due:2026-12-01 link:https://tracker.example/SRCH-42")
    assert e.data == {
        "text": "Hourly snapshots (#1105)",
        "owner": "erin",
        "due": "2026-12-01",
        "link": "https://tracker.example/SRCH-42",
    }  # `#1105` is a reference, not a tag
    war.do("/followup Alert on the 0-hit rate #alerting")
    war.do("/link F2 https://tracker.example/SRCH-43")
    assert [f.link for f in war.state.followups] == [
        "https://tracker.example/SRCH-42",
        "https://tracker.example/SRCH-43",
    ]
    assert war.state.followups[1].text == "Alert on the 0-hit rate #alerting"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("/mitigate", "/mitigate needs text"),
        ("/dataloss", "/dataloss needs text"),
        ("/background", "/background needs text"),
        ("/lesson", "/lesson needs well, wrong or lucky"),
        ("/lesson great it went", "/lesson needs well, wrong or lucky"),
        ("/lesson well", "/lesson needs well, wrong or lucky"),
        ("/link F1 https://x.example/1", "no follow-up F1"),
        ("/link F1", "/link needs a follow-up and a URL"),
        ("/followup Fix it link:javascript:alert(1)", "is not an http(s) URL"),
        ("/followup Fix it link:https://x.example/<b>", "is not an http(s) URL"),
    ],
)
def test_bad_arguments_are_refused_with_what_would_work(war: War, line: str, reason: str) -> None:
    assert reason in war.refused(line)


def test_link_refuses_what_is_not_a_url(war: War) -> None:
    war.do("/followup Fix it")
    assert "is not an http(s) URL" in war.refused("/link F1 ftp://x.example/1")
    assert "is not an http(s) URL" in war.refused("/link F1 https://x.example/" + "a" * 3000)
