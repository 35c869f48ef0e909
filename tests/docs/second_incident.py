"""The second scripted incident the golden documents are built from: everything the demo
lacks. Impact began 90 minutes before anyone declared (a back-dated `/detected`), the
night crosses midnight, two chains of whys, lessons of each sort, data loss, mitigations
beside actions that did not help (one made it worse), follow-ups with tracker links and
one with a bare `#123`, a ping-bait note, two handoffs, and a missed update cadence."""

from __future__ import annotations

from .conftest import Script

T = "tracker.example"


def build_second(s: Script) -> Script:
    # Declared 23:40 CET on 2 March; minutes count from there.
    s.t0 = s.t0.replace(hour=22, minute=40)
    s.declare(title="Search returns stale or no results after index migration", severity="SEV2")
    s.add(-90, "detected", {"text": "Customer reports via support: searches return nothing #support"}, "dave")
    s.add(1, "role.assigned", {"role": "commander", "user": "alice"})
    s.add(1, "role.assigned", {"role": "scribe", "user": "bob"})
    s.add(2, "phase.set", {"phase": "triage"})
    s.add(3, "obs", {"text": "search-api p50 fine, but 38% of queries return 0 hits (normal ~2%)"}, "carol")
    s.add(4, "note", {"text": "@team @everyone please stay off the search cluster until we know more"}, "bob")
    s.add(5, "severity.set", {"severity": "SEV1"})
    s.add(6, "impact.set", {"value": "~40% of searches return no results; catalogue pages that use search are empty"})
    s.add(6, "category.set", {"value": "availability"})
    s.add(7, "role.assigned", {"role": "comms", "user": "dave"})
    s.add(8, "hypothesis", {"text": "The 22:05 index migration left shards half-built"}, "carol")
    s.add(9, "hypothesis", {"text": "The search-api v5.2 deploy broke the query parser"}, "erin")
    s.add(
        10,
        "background",
        {
            "text": "Search runs on a 6-node cluster fed from the catalogue DB by an indexer; "
            "a nightly job migrates the index layout when the schema changes."
        },
    )
    s.add(10.5, "background", {"text": "Snapshots of the index are taken every 24h at 03:00 to s3://search-snap."})
    s.add(11, "update", {"text": "Search is returning empty results for many queries. We are investigating."}, "dave")
    s.add(12, "phase.set", {"phase": "mitigating"})
    s.add(14, "action", {"text": "Restarted the indexer on all nodes"}, "erin")
    s.add(
        20, "obs", {"text": "After the restart the indexer resumed the broken compaction: 0-hit rate now 61%"}, "carol"
    )
    s.add(
        21,
        "hypothesis.rejected",
        {"number": 2, "text": "v5.2 parses the test queries fine against a good shard"},
        "erin",
    )
    s.add(22, "hypothesis.confirmed", {"number": 1, "text": "shards 3-5 have a half-written segment table"}, "carol")
    s.add(25, "decision", {"text": "Stop the indexer and serve from the last good snapshot instead of repairing"})
    s.add(26, "mitigation", {"text": "Stopped the indexer on all nodes; the 0-hit rate stopped climbing"}, "erin")
    s.add(
        30,
        "action",
        {"text": "Tried to repair shard 3 in place with the vendor tool: it refused (#123 upstream)"},
        "carol",
    )
    before = len(s.events)  # what `/handoff frank` snapshots: the state before the handoff
    s.add(60, "role.assigned", {"role": "commander", "user": "frank"})
    s.add(60, "snapshot", {"at_seq": before, "from": "alice", "to": "frank"})
    s.add(
        70,
        "mitigation",
        {"text": "Restored shards 3-5 from the 03:00 snapshot (~300 GB -> 4.5 GB compressed)"},
        "carol",
    )
    s.add(
        75,
        "obs",
        {"text": "Restore at 60% (shard 3 done, 4 in progress); pg_dump of the catalogue as a cross-check"},
        "carol",
    )
    s.add(
        80,
        "dataloss",
        {"text": "Documents indexed between 03:00 and 22:05 (~1,200) are missing until re-indexed"},
        "frank",
    )
    s.add(95, "mitigation", {"text": "Re-indexed the ~1,200 documents from the catalogue DB"}, "erin")
    s.add(100, "phase.set", {"phase": "monitoring"}, "frank")
    s.add(101, "obs", {"text": "0-hit rate 2.1%, back to baseline"}, "carol")
    before = len(s.events)
    s.add(110, "role.assigned", {"role": "commander", "user": "grace"}, "frank")
    s.add(110, "snapshot", {"at_seq": before, "from": "frank", "to": "grace"}, "frank")
    s.add(120, "update", {"text": "Search is back to normal; we are watching it overnight."}, "dave")
    s.add(150, "phase.set", {"phase": "resolved"}, "grace")
    s.add(
        151,
        "dataloss",
        {"text": "none beyond the re-indexed documents: the catalogue DB itself was never affected"},
        "grace",
    )
    s.add(
        160,
        "rootcause",
        {
            "text": "The index migration ran while the indexer was compacting and left a "
            "half-written segment table on shards 3-5"
        },
        "grace",
    )
    for chain, text in [
        ("impact", "Searches returned nothing because shards 3-5 had no readable segments"),
        ("impact", "The migration rewrote the segment table while a compaction held it"),
        ("impact", "The migration job does not wait for compactions to finish"),
        ("recovery", "Recovery took 2h 30m because the newest snapshot was 20 hours old"),
        ("recovery", "Snapshots run daily because hourly ones were thought too expensive"),
        ("recovery", "Nobody had measured what an hourly snapshot costs"),
    ]:
        s.add(161, "why", {"text": text, "chain": chain}, "grace")
    s.add(165, "lesson", {"text": "The scribe's note of the 03:00 snapshot saved an hour", "lesson": "well"})
    s.add(165, "lesson", {"text": "Restarting the indexer resumed the broken compaction", "lesson": "wrong"})
    s.add(166, "lesson", {"text": "The catalogue DB was untouched, so re-indexing was possible", "lesson": "lucky"})
    s.add(
        170,
        "followup",
        {
            "text": "Make the migration wait for compactions",
            "owner": "carol",
            "due": "2026-03-16",
            "link": f"https://{T}/SRCH-41",
        },
    )
    s.add(171, "followup", {"text": "Hourly index snapshots (see #123 upstream)", "owner": "erin"})
    s.add(172, "followup", {"text": "Alert on the 0-hit rate above 5%"})
    s.add(173, "followup.link", {"number": 2, "url": f"https://{T}/SRCH-42"})
    s.add(174, "followup.done", {"number": 1})
    return s
