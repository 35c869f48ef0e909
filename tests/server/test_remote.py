"""The remote store against a real server: the same behaviour as a local store, plus an
outbox that survives the server (and the client) going away."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from incident_tui.domain.commands import declare_event
from incident_tui.domain.events import Event, new_event
from incident_tui.store.base import StoreError
from incident_tui.store.jsonfile import JsonStore
from incident_tui.store.memory import MemoryStore

from .conftest import ThreadServer, free_port, wait_until


def notes(incident: str, author: str, n: int, prefix: str = "n") -> list[Event]:
    return [new_event(incident, "note", author, {"text": f"{prefix}{i}"}) for i in range(n)]


@pytest.mark.parametrize("transport", ["sse", "poll"])
def test_two_clients_see_each_others_events_in_the_same_order(server: ThreadServer, client, transport) -> None:
    a = client(server.url, "alice", transport=transport)
    b = client(server.url, "bob", transport=transport)
    d = declare_event("shared", "alice")
    a.append([d])
    for i in range(10):
        (a if i % 2 else b).append(notes(d.incident, "x", 2, f"{i}-"))
    for c in (a, b):
        assert c.wait(20, 10) or c.latest_seq() >= 21
        wait_until(lambda c=c: len(c.read_cached()) == 21, 10, "both caches to hold every event")
    assert [e.id for e in a.read_cached()] == [e.id for e in b.read_cached()] == [e.id for e in server.store.read()]
    assert a.link_state() == b.link_state() == "connected"


def test_append_returns_stored_copies_and_read_sees_them_at_once(server: ThreadServer, client) -> None:
    a = client(server.url)
    d = declare_event("x", "alice")
    stored = a.append([d, d])
    assert [e.seq for e in stored] == [1, 1]
    assert [e.id for e in a.read()] == [d.id]
    assert a.pending() == []


def test_short_lived_read_pages_the_whole_log(thread_server, client) -> None:
    store = MemoryStore()
    d = declare_event("big", "alice")
    store.append([d, *notes(d.incident, "alice", 2499)])
    s = thread_server(store)
    assert len(client(s.url).read()) == 2500
    assert [e.seq for e in client(s.url, "bob").read(2400, 50)] == list(range(2401, 2451))


def test_write_while_server_is_away_is_queued_then_delivered_in_order(tmp_path: Path, client, proc_server) -> None:
    s = proc_server()
    a = client(s.url)
    d = declare_event("away", "alice")
    a.append([d])
    a.start()
    s.kill()
    queued = []
    for e in notes(d.incident, "alice", 5):
        queued += a.append([e])
    assert all(e.seq is None for e in queued)
    assert [e.id for e in a.pending()] == [e.id for e in queued]
    wait_until(lambda: a.link_state() == "reconnecting", 5, "reconnecting")
    s.start()
    wait_until(lambda: not a.pending(), 15, "the outbox to drain")
    wait_until(lambda: len(a.read_cached()) == 6, 10, "the cache to catch up")
    log = JsonStore(s.store_path).read()
    assert [e.id for e in log] == [d.id] + [e.id for e in queued]
    assert a.link_state() == "connected"


def test_unreachable_server_then_link_is_offline_and_reads_fail_without_a_cache(client) -> None:
    a = client(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(StoreError, match="cannot reach"):
        a.read()
    assert a.link_state() == "offline"


def test_a_write_the_schema_refuses_raises_at_once_and_queues_nothing(server: ThreadServer, client) -> None:
    a = client(server.url)
    bad = new_event(declare_event("x", "a").incident, "note", "alice", {"text": "fine"})
    huge = Event(**{**bad.to_dict(), "data": {"text": "fine", "pad": "y" * 1_200_000}})
    with pytest.raises(StoreError, match="refused"):
        a.append([huge])
    assert a.pending() == [] and not a.outbox.path.exists()
    assert server.store.latest_seq() == 0


def test_close_stops_a_live_stream_promptly(server: ThreadServer, client) -> None:
    a = client(server.url)
    a.start()
    wait_until(lambda: a.connects == 1, 5, "the stream to open")
    t0 = time.monotonic()
    a.close()
    assert time.monotonic() - t0 < 2.0  # not the 45 s a blocked stream read could take
    assert all(not t.is_alive() for t in a._threads)


@pytest.mark.slow
def test_quiet_stream_outlives_httpx_default_read_timeout(server: ThreadServer, client) -> None:
    a = client(server.url)
    a.start()
    wait_until(lambda: a.connects == 1, 5, "the stream to open")
    time.sleep(6.5)  # the point is elapsed quiet time: longer than httpx's default 5 s read timeout
    httpx.post(f"{server.url}/api/v1/events", json={"events": [declare_event("late", "bob").to_dict()]})
    assert a.wait(0, 5)
    assert a.connects == 1


def test_cli_verbs_work_with_remote(server: ThreadServer, cli) -> None:
    r = cli("--remote", server.url, "declare", "payments down", "--severity", "SEV1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "INC-1"
    r = cli("--remote", server.url, "log", "INC-1", "/decision roll back", user="bob")
    assert r.returncode == 0, r.stderr
    r = cli("--remote", server.url, "list", "--json")
    assert json.loads(r.stdout)[0]["severity"] == "SEV1"
    r = cli("--remote", server.url, "events", "1", "--json")
    kinds = [json.loads(line)["kind"] for line in r.stdout.splitlines()]
    assert kinds == ["incident.declared", "decision"]


def test_cli_write_to_an_absent_server_is_queued_and_sent_by_the_next_run(tmp_path: Path, cli, thread_server) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    r = cli("--remote", url, "declare", "queued while away")
    assert r.returncode == 0, r.stderr
    assert "queued" in r.stderr
    # No INC number is promised while queued: the server gives it. The id works everywhere.
    incident = r.stdout.strip()
    assert not incident.startswith("INC-") and incident in r.stderr
    store = JsonStore(tmp_path / "later.jsonl")
    thread_server(store, port=port)
    # Any later verb by the same user against the same server sends the outbox first.
    r = cli("--remote", url, "list", "--json")
    assert r.returncode == 0, r.stderr
    assert [(i["title"], i["id"]) for i in json.loads(r.stdout)] == [("queued while away", incident)]
    assert store.latest_seq() == 1
    assert cli("--remote", url, "list").returncode == 0
    assert store.latest_seq() == 1


def test_offline_run_shows_the_log_the_last_run_saw(server: ThreadServer, client, tmp_path: Path) -> None:
    a = client(server.url)
    a.append([declare_event("cached", "alice")])
    a.read()
    a.close()
    url = server.url
    server.stop()
    b = client(url)
    assert [e.kind for e in b.read()] == ["incident.declared"]
    assert b.link_state() == "offline"


def test_cache_of_another_store_behind_the_same_url_is_dropped(thread_server, client, tmp_path: Path) -> None:
    one = thread_server(MemoryStore())
    a = client(one.url)
    a.append([declare_event("first store", "alice")])
    a.close()
    other = MemoryStore()
    other.append([declare_event("second store", "bob")])
    one.stop()
    thread_server(other, port=one.port)
    b = client(one.url)
    assert [e.data["title"] for e in b.read()] == ["second store"]


def test_wrong_token_keeps_writes_in_the_outbox_for_the_right_one(thread_server, client) -> None:
    from incident_tui.server import Tokens

    s = thread_server(MemoryStore(), Tokens.shared_token("right-token-0123456789"))
    bad = client(s.url, "alice", token="wrong-token-0123456789")
    d = declare_event("token", "alice")
    with pytest.raises(StoreError, match="refused the token"):
        bad.append([d])
    assert [e.id for e in bad.pending()] == [d.id]
    bad.close()
    good = client(s.url, "alice", token="right-token-0123456789")  # same user and server: same outbox
    assert good.pending() == []
    assert [e.id for e in s.store.read()] == [d.id]


def test_falls_back_to_long_poll_when_the_stream_is_not_an_event_stream(thread_server, client) -> None:
    s = thread_server(MemoryStore(), no_stream=True)
    a = client(s.url)
    a.start()
    wait_until(lambda: a.transport == "poll", 10, "the fall back to long poll")
    s.store.append([declare_event("via poll", "bob")])
    assert a.wait(0, 10)
    assert a.read_cached()[0].data["title"] == "via poll"
