"""Several `serve` replicas on one PostgreSQL: one log, one order, nothing lost."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import orjson
import pytest
from _procs import wait_until

from incident_tui.domain.events import new_event
from incident_tui.store.postgres import PostgresStore

from .cluster import Cluster


def wire(e) -> dict:
    d = e.to_dict()
    d.pop("seq", None)
    return d


def post(url: str, events: list, timeout: float = 10) -> httpx.Response:
    return httpx.post(f"{url}/api/v1/events", json={"events": [wire(e) for e in events]}, timeout=timeout)


def declared(incident: str = "i1"):
    return new_event(incident, "incident.declared", "alice", {"title": "t", "severity": "SEV2"})


def note(text: str, incident: str = "i1"):
    return new_event(incident, "note", "alice", {"text": text, "tags": []})


def test_a_retry_through_another_replica_answers_the_first_seq(pg_dsn: str, replicas) -> None:
    a, b = replicas(pg_dsn), replicas(pg_dsn)
    e = declared()
    first = post(a.url, [e]).json()["seqs"]
    again = post(b.url, [e, note("n")]).json()["seqs"]
    assert first == [1]
    assert again == [1, 2]
    for r in (a, b):
        got = httpx.get(f"{r.url}/api/v1/events", params={"since": 0, "wait": 5}).json()
        wait_until(lambda r=r: httpx.get(f"{r.url}/api/v1/health").json()["seq"] == 2, 10, "both events")
        got = httpx.get(f"{r.url}/api/v1/events", params={"since": 0}).json()
        assert [x["seq"] for x in got["events"]] == [1, 2]


def test_a_write_on_one_replica_reaches_long_polls_and_streams_on_the_other(pg_dsn: str, replicas) -> None:
    a, b = replicas(pg_dsn), replicas(pg_dsn)
    got: dict[str, object] = {}

    def long_poll() -> None:
        got["poll"] = httpx.get(f"{b.url}/api/v1/events", params={"since": 0, "wait": 20}, timeout=30).json()

    def stream() -> None:
        with httpx.stream("GET", f"{b.url}/api/v1/stream", params={"since": 0}, timeout=30) as resp:
            for line in resp.iter_lines():
                if line.startswith("data: "):
                    got["stream"] = orjson.loads(line[6:])
                    return

    threads = [threading.Thread(target=long_poll), threading.Thread(target=stream)]
    for t in threads:
        t.start()
    assert post(a.url, [declared()]).status_code == 200
    for t in threads:
        t.join(30)
    assert [e["seq"] for e in got["poll"]["events"]] == [1]  # type: ignore[index]
    assert got["stream"]["seq"] == 1  # type: ignore[index]


def test_a_replica_killed_mid_load_loses_nothing_acknowledged(pg_dsn: str, replicas) -> None:
    a, b = replicas(pg_dsn), replicas(pg_dsn)
    assert post(a.url, [declared()]).status_code == 200
    acked: dict[str, int] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def writer(n: int) -> None:
        i = 0
        with httpx.Client(timeout=5) as c:
            while not stop.is_set():
                e = note(f"w{n}-{i}")
                i += 1
                url = (a if (i + n) % 2 else b).url
                for target in (url, b.url):  # a refused or failed write is retried on B
                    try:
                        r = c.post(f"{target}/api/v1/events", json={"events": [wire(e)]})
                    except httpx.HTTPError:
                        continue
                    if r.status_code == 200:
                        with lock:
                            acked[e.id] = r.json()["seqs"][0]
                        break

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    wait_until(lambda: len(acked) >= 60, 60, "writes through both replicas")
    a.kill()
    n_at_kill = len(acked)
    wait_until(lambda: len(acked) >= n_at_kill + 60, 60, "writes through the survivor")
    stop.set()
    for t in threads:
        t.join(30)
    store = PostgresStore(pg_dsn)
    try:
        events = store.read()
    finally:
        store.close()
    seqs = [e.seq for e in events]
    assert seqs == list(range(1, len(events) + 1))
    ids = [e.id for e in events]
    assert len(ids) == len(set(ids))  # exactly once
    by_id = {e.id: e.seq for e in events}
    for eid, seq in acked.items():
        assert by_id.get(eid) == seq, f"acknowledged {eid} at {seq} but stored at {by_id.get(eid)}"
    # The survivor serves the same order to a reader.
    wait_until(lambda: httpx.get(f"{b.url}/api/v1/health").json()["seq"] == len(events), 20, "the survivor to catch up")
    served = httpx.get(f"{b.url}/api/v1/events", params={"since": 0}).json()["events"]
    assert [x["id"] for x in served] == ids


@pytest.fixture
def own_cluster():
    c = Cluster()
    yield c
    c.destroy()


def test_replicas_recover_by_themselves_when_the_database_restarts(
    own_cluster: Cluster, replicas, tmp_path: Path
) -> None:
    dsn = own_cluster.create_db()
    a = replicas(dsn)
    assert post(a.url, [declared()]).status_code == 200
    own_cluster.stop()
    r = post(a.url, [note("while down")])
    assert r.status_code == 503, r.text
    assert "database unavailable" in r.json()["error"]
    wait_until(lambda: a.health() == 503, 20, "health to say the database is gone")
    own_cluster.start()
    wait_until(lambda: post(a.url, [note("after")]).status_code == 200, 30, "writes to work again")
    wait_until(lambda: a.health() == 200, 30, "health to recover")
    wait_until(lambda: httpx.get(f"{a.url}/api/v1/health").json()["seq"] >= 2, 10, "the hub to follow")
    texts = [e["data"].get("text") for e in httpx.get(f"{a.url}/api/v1/events").json()["events"]]
    assert texts[-1] == "after"
    assert "while down" not in texts  # refused with 503, so never stored: the client keeps it queued


def test_a_database_replaced_under_a_replica_is_never_acknowledged_into(pg_dsn: str, replicas) -> None:
    # The check that the database still holds what the replica streamed rides with the
    # append (one round trip): a restore of another history is caught at the next write.
    import psycopg

    a = replicas(pg_dsn)
    assert post(a.url, [declared(), note("ours")]).status_code == 200
    wait_until(lambda: httpx.get(f"{a.url}/api/v1/health").json()["seq"] == 2, 10, "the replica to stream both")
    with psycopg.connect(pg_dsn, autocommit=True) as conn:  # another history at seq 2
        other = orjson.dumps({**wire(note("theirs")), "id": "restored-elsewhere"}).decode()
        conn.execute("UPDATE incident_tui_events SET id = 'restored-elsewhere', body = %s WHERE seq = 2", (other,))
    refused = post(a.url, [note("after the restore")])
    assert refused.status_code == 503 and "replaced under the server" in refused.json()["error"]
    assert post(a.url, [note("and again")]).status_code == 503  # refused until restarted
