"""A client given several replicas (`--remote A,B`) fails over with its outbox and cursor."""

from __future__ import annotations

from pathlib import Path

import httpx
from _procs import wait_until

from incident_tui.domain.events import new_event
from incident_tui.store.remote import RemoteStore


def declared():
    e = new_event("", "incident.declared", "alice", {"title": "t", "severity": "SEV2"})
    return type(e)(**{**e.to_dict(), "incident": e.id})


def note(incident: str, text: str, author: str = "alice"):
    return new_event(incident, "note", author, {"text": text, "tags": []})


def test_a_killed_replica_is_left_for_the_next_with_nothing_lost(pg_dsn: str, replicas, tmp_path: Path) -> None:
    a, b = replicas(pg_dsn), replicas(pg_dsn)
    alice = RemoteStore(f"{a.url},{b.url}", user="alice", data_dir=tmp_path / "alice")
    bob = RemoteStore(b.url, user="bob", data_dir=tmp_path / "bob")
    try:
        inc = declared()
        assert alice.append([inc])[0].seq == 1
        alice.start()  # live: the reader streams from A
        assert alice.live_server == a.url
        wait_until(lambda: alice.connects >= 1, 20, "alice's stream")
        a.kill()
        # Written while A is dead: sent through B, nothing waits for A to come back.
        late = note(inc.id, "after A died")
        alice.append([late])
        wait_until(lambda: not alice.pending(), 30, "the write to be acknowledged via B")
        assert alice.live_server == b.url
        # The stream resumed on B from the cursor it held: bob's write reaches alice.
        bob.append([note(inc.id, "bob via B", "bob")])
        wait_until(lambda: any(e.data.get("text") == "bob via B" for e in alice.read_cached()), 30, "bob's note")
        assert alice.pending() == []
        seqs = [e.seq for e in alice.read_cached()]
        assert seqs == list(range(1, len(seqs) + 1))
        served = httpx.get(f"{b.url}/api/v1/events", params={"since": 0}).json()["events"]
        assert [e["id"] for e in served] == [e.id for e in alice.read_cached()]
    finally:
        alice.close()
        bob.close()


def test_a_client_starts_on_the_second_replica_when_the_first_is_down(pg_dsn: str, replicas, tmp_path: Path) -> None:
    b = replicas(pg_dsn)
    dead = "http://127.0.0.1:9"  # discard port: nothing listens
    c = RemoteStore(f"{dead},{b.url}", user="carol", data_dir=tmp_path / "carol")
    try:
        inc = declared()
        c.append([inc])  # the first attempt finds A dead and moves on; the outbox keeps it meanwhile
        wait_until(lambda: c.read() and not c.pending(), 30, "the write to land via B")
        assert c.live_server == b.url
        assert [e.id for e in c.read()] == [inc.id]
    finally:
        c.close()
