"""PostgresStore against a real PostgreSQL: the Store protocol's promises on a database."""

from __future__ import annotations

import json
import threading
import time

import psycopg
import pytest

from incident_tui.domain.events import new_event
from incident_tui.store.base import StoreError, StoreUnavailable
from incident_tui.store.postgres import PostgresStore, redact_dsn

from .cluster import Cluster


def raw_body(eid: str, text: str) -> str:
    """An event's stored JSON, for writes made behind the store's back."""
    e = new_event("i1", "note", "bob", {"text": text, "tags": []})
    return json.dumps({**e.to_dict(), "id": eid})


def note(incident: str = "i1", text: str = "x") -> object:
    return new_event(incident, "note", "alice", {"text": text, "tags": []})


def declared(incident: str = "i1") -> object:
    return new_event(incident, "incident.declared", "alice", {"title": "t", "severity": "SEV2"})


@pytest.fixture
def store(pg_dsn: str):
    s = PostgresStore(pg_dsn)
    yield s
    s.close()


def test_append_is_idempotent_by_id_within_and_across_stores(store: PostgresStore, pg_dsn: str) -> None:
    e = declared()
    first = store.append([e, e])
    assert [x.seq for x in first] == [1, 1]
    other = PostgresStore(pg_dsn)  # another replica's connection to the same database
    try:
        again = other.append([e, note()])
        assert [x.seq for x in again] == [1, 2]
        assert again[0] == first[0]
    finally:
        other.close()
    assert [x.seq for x in store.read()] == [1, 2]


def test_schema_is_created_once_and_versioned(pg_dsn: str) -> None:
    stores = []
    threads = [threading.Thread(target=lambda: stores.append(PostgresStore(pg_dsn))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(stores) == 4  # four replicas starting at once: none failed on a racing CREATE
    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute("SELECT version FROM incident_tui_schema ORDER BY version").fetchall() == [(1,), (2,)]
        conn.execute("UPDATE incident_tui_schema SET version = 99")
    for s in stores:
        s.close()
    with pytest.raises(StoreError, match=r"schema version 99.*upgrade incident-tui"):
        PostgresStore(pg_dsn)


def test_a_version_1_database_is_migrated_in_place_and_keeps_its_log(pg_dsn: str) -> None:
    """A database an older replica wrote (schema 1, appends in client transactions) gets the
    one-statement append (schema 2) at the next start; its events and ids stay as they were."""
    from incident_tui.store.postgres import MIGRATIONS

    old = new_event("inc", "note", "alice", {"text": "written by schema 1"})
    body = json.dumps({k: v for k, v in old.to_dict().items() if k != "seq"})
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE incident_tui_schema (version integer NOT NULL)")
        conn.execute(MIGRATIONS[1])
        conn.execute("INSERT INTO incident_tui_schema (version) VALUES (1)")
        conn.execute(
            "INSERT INTO incident_tui_events (seq, id, incident, kind, body) VALUES (1, %s, 'inc', 'note', %s)",
            (old.id, body),
        )
        conn.execute("UPDATE incident_tui_counter SET seq = 1")
    with PostgresStore(pg_dsn) as store:
        again, fresh = store.append([old, new_event("inc", "note", "bob", {"text": "after"})])
        assert (again.seq, again.data["text"], fresh.seq) == (1, "written by schema 1", 2)
        assert [e.seq for e in store.read()] == [1, 2]


def test_concurrent_writers_get_gap_free_seqs_in_commit_order(pg_dsn: str) -> None:
    writers = [PostgresStore(pg_dsn) for _ in range(4)]
    acked: list[int] = []
    lock = threading.Lock()

    def write(s: PostgresStore) -> None:
        for i in range(40):
            got = s.append([note(text=str(i)), note(text=f"{i}b")])
            with lock:
                acked.extend(x.seq for x in got)

    seen: list[int] = []
    done = threading.Event()

    def read() -> None:
        reader = writers[0]
        cursor = 0
        while not done.is_set() or cursor < 320:
            for e in reader.read(cursor):
                assert e.seq == cursor + 1, f"gap: saw {e.seq} after {cursor}"
                cursor = e.seq
                seen.append(e.seq)
            reader.wait(cursor, 0.2)

    r = threading.Thread(target=read)
    r.start()
    threads = [threading.Thread(target=write, args=(s,)) for s in writers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    r.join(30)
    assert sorted(acked) == list(range(1, 321))
    assert seen == list(range(1, 321))
    for s in writers:
        s.close()


def test_a_transaction_held_open_hides_later_writes_instead_of_leaving_a_gap(store: PostgresStore, pg_dsn: str) -> None:
    store.append([declared()])
    # A writer that took seq 2 and has not committed yet (as a slow replica would).
    slow = psycopg.connect(pg_dsn)
    slow.execute("SELECT seq FROM incident_tui_counter FOR UPDATE")
    slow.execute(
        "INSERT INTO incident_tui_events (seq, id, incident, kind, body) VALUES (2, 'held', 'i1', 'note', %s)",
        (raw_body("held", "held"),),
    )
    slow.execute("UPDATE incident_tui_counter SET seq = 2")
    fast_done = threading.Event()
    fast_seq: list[int] = []

    def fast() -> None:
        fast_seq.append(store.append([note(text="fast")])[0].seq)
        fast_done.set()

    t = threading.Thread(target=fast)
    t.start()
    # While seq 2 is uncommitted, the fast writer waits and a reader sees nothing past 1.
    assert not fast_done.wait(0.5)
    assert [e.seq for e in store.read(1)] == []
    slow.commit()
    slow.close()
    t.join(10)
    assert fast_seq == [3]
    assert [e.data["text"] for e in store.read(1)] == ["held", "fast"]


def test_a_rolled_back_append_leaves_no_gap(store: PostgresStore, pg_dsn: str) -> None:
    store.append([declared()])
    with psycopg.connect(pg_dsn) as conn:
        conn.execute("SELECT seq FROM incident_tui_counter FOR UPDATE")
        conn.execute("UPDATE incident_tui_counter SET seq = 5")
        conn.rollback()
    assert store.append([note()])[0].seq == 2


def test_wait_wakes_on_another_replicas_write_and_survives_a_killed_listener(
    store: PostgresStore, pg_dsn: str, pg_cluster: Cluster
) -> None:
    other = PostgresStore(pg_dsn)
    try:
        t0 = time.monotonic()
        threading.Timer(0.2, lambda: other.append([declared()])).start()
        assert store.wait(0, 10)
        assert time.monotonic() - t0 < 5
        # The listener's connection is killed: no notification can reach it until it
        # reconnects, and whatever committed meanwhile is still found.
        assert pg_cluster.terminate("incident-tui-listen") >= 1
        other.append([note(text="while deaf")])
        assert store.wait(1, 10)
        assert [e.data.get("text") for e in store.read(1)] == ["while deaf"]
    finally:
        other.close()


def test_pooled_connections_the_database_dropped_are_replaced_without_an_error(
    store: PostgresStore, pg_cluster: Cluster
) -> None:
    # A database restart or an idle timeout drops the pool's connections: the next append,
    # read and latest_seq must each succeed on a fresh one, not answer "unavailable".
    store.append([declared()])
    store.read()  # more than one pooled connection in use since start, at least one idle now
    assert pg_cluster.terminate("incident-tui") >= 1
    assert store.append([note(text="after the drop")])[0].seq == 2
    assert pg_cluster.terminate("incident-tui") >= 1
    assert [e.data.get("text") for e in store.read(1)] == ["after the drop"]
    assert pg_cluster.terminate("incident-tui") >= 1
    assert store.latest_seq() == 2


def test_a_lost_notification_only_delays_a_reader(store: PostgresStore, pg_dsn: str) -> None:
    # A write that sends no NOTIFY at all (as if the notification were lost).
    body = raw_body("silent", "s")
    with psycopg.connect(pg_dsn) as conn:
        conn.execute("SELECT seq FROM incident_tui_counter FOR UPDATE")
        conn.execute("INSERT INTO incident_tui_events VALUES (1, 'silent', 'i1', 'note', %s)", (body,))
        conn.execute("UPDATE incident_tui_counter SET seq = 1")
    assert store.wait(0, 10)
    assert store.read()[0].id == "silent"


def test_invalid_events_are_refused_and_nothing_is_written(store: PostgresStore) -> None:
    bad = new_event("i1", "severity.changed", "alice", {"severity": "SEV9"})
    with pytest.raises(StoreError, match="refused event"):
        store.append([note(), bad])
    assert store.read() == []
    assert store.latest_seq() == 0


def test_an_unreachable_database_is_one_line_and_unavailable(pg_cluster: Cluster) -> None:
    dsn = f"postgresql://postgres@/nosuchdb?host={pg_cluster.dir}"
    with pytest.raises(StoreUnavailable) as info:
        PostgresStore(dsn)
    assert "\n" not in str(info.value)
    assert str(info.value).startswith("database unavailable:")


def test_passwords_never_reach_messages() -> None:
    assert redact_dsn("postgresql://bob:s3cret@db.example/war") == "postgresql://bob:***@db.example/war"
    assert "s3cret" not in redact_dsn("host=db password=s3cret dbname=war")


def test_a_row_this_version_cannot_read_is_skipped_by_the_fold_not_fatal(store: PostgresStore, pg_dsn: str) -> None:
    from incident_tui.domain.fold import fold

    store.append([declared(), note(text="before")])
    poison = json.dumps(
        {**json.loads(raw_body("bad", "x")), "data": {"text": "x", "owner": {"o": 1}}, "kind": "followup"}
    )
    with psycopg.connect(pg_dsn) as conn:  # an older or broken writer, behind the store's back
        conn.execute("SELECT seq FROM incident_tui_counter FOR UPDATE")
        conn.execute(
            "INSERT INTO incident_tui_events (seq, id, incident, kind, body) VALUES (3, 'bad', 'i1', 'followup', %s),"
            " (4, 'junk', 'i1', 'note', '{not json')",
            (poison,),
        )
        conn.execute("UPDATE incident_tui_counter SET seq = 4")
    store.append([note(text="after")])
    events = PostgresStore(pg_dsn).read()
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    warnings: list[str] = []
    state = fold(events, warn=warnings.append).incidents["i1"]
    assert [e.data["text"] for e in state.timeline if e.kind == "note"] == ["before", "after"]
    assert [w.split(":")[0] for w in warnings] == ["seq 3", "seq 4"]


def test_an_append_can_read_the_event_at_a_seq_in_the_same_round_trip(store: PostgresStore) -> None:
    first = store.append([declared(), note(text="streamed")])
    stored, found = store.append_probing([note(text="next")], 2)
    assert [e.seq for e in stored] == [3] and found is not None and found.id == first[1].id
    _, missing = store.append_probing([note(text="later")], 99)
    assert missing is None
    with pytest.raises(StoreError):  # validated whole, as append is
        store.append_probing([new_event("i1", "note", "alice", {"text": 7})], 2)
