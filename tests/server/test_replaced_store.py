"""The server follows a replaced store file or refuses loudly, never splits (issue 9, item 8).

A real server over a real JSON store file; the file is replaced with os.replace (what
`mv`, a restore from backup or a `cp` + rename does) while a client keeps writing."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson

from incident_tui.domain.commands import declare_event
from incident_tui.domain.events import Event, new_event
from incident_tui.store.jsonfile import JsonStore

from .conftest import ThreadServer, wait_until

D = declare_event("replaced", "alice")


def note(text: str, incident: str = D.incident) -> Event:
    return new_event(incident, "note", "alice", {"text": text})


def post(c: httpx.Client, events: list[Event]) -> httpx.Response:
    return c.post("/api/v1/events", json={"events": [e.to_dict() for e in events]})


def other_history(path: Path, notes: int) -> None:
    """A store file with its own history (another war room, or an old backup)."""
    other = declare_event("another room", "bob")
    with JsonStore(path) as st:
        st.append([other, *[note(f"other {i}", other.incident) for i in range(notes)]])


def acked_matches_stream(s: ThreadServer, acked: list[tuple[str, int]], path: Path) -> None:
    """Every acknowledged (id, seq) went into the file this server streamed: it is the
    event streamed at that seq, or (appended just before the file was replaced, after the
    hub's last look) it lies past the streamed end; none went into the new file."""
    hub = s.app.state.hub
    for event_id, seq in acked:
        if seq <= hub.seq:
            line = hub.lines(seq - 1, 1)
            assert orjson.loads(line[0])["id"] == event_id, f"acknowledged {event_id} at seq {seq}, streamed {line}"
    assert [seq for _, seq in acked] == list(range(acked[0][1], acked[0][1] + len(acked)))
    with JsonStore(path) as now:
        assert not {e.id for e in now.read()} & {i for i, _ in acked}, "acknowledged into the new file"


def test_a_store_replaced_by_another_history_is_refused_loudly_and_never_split(
    thread_server: Callable[..., ThreadServer], tmp_path: Path
) -> None:
    path = tmp_path / "war.jsonl"
    s = thread_server(JsonStore(path))
    c = httpx.Client(base_url=s.url, timeout=30)
    assert post(c, [D, *[note(f"n{i}") for i in range(5)]]).status_code == 200
    acked: list[tuple[str, int]] = []
    refused: list[int] = []
    stop = threading.Event()

    def writer() -> None:
        with httpx.Client(base_url=s.url, timeout=30) as w:
            i = 0
            while not stop.is_set():
                e = note(f"live {i}")
                r = post(w, [e])
                if r.status_code == 200:
                    acked.append((e.id, r.json()["seqs"][0]))
                else:
                    refused.append(r.status_code)
                i += 1

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    wait_until(lambda: len(acked) >= 20, 20, "the writer to get going")
    replacement = tmp_path / "war.jsonl.restored"
    other_history(replacement, 3)  # shorter than what the server streamed
    os.replace(replacement, path)
    wait_until(lambda: refused, 20, "a write to be refused")
    stop.set()
    t.join(30)
    assert set(refused) == {503}
    acked_matches_stream(s, acked, path)
    health = c.get("/api/v1/health")
    assert health.status_code == 503 and "replaced" in health.json()["error"]
    r = post(c, [note("after")])
    assert r.status_code == 503 and "\n" not in r.json()["error"]
    assert c.get("/api/v1/stream").status_code == 503
    c.close()


def test_a_replacement_as_long_as_the_log_with_another_history_is_refused(
    thread_server: Callable[..., ThreadServer], tmp_path: Path
) -> None:
    path = tmp_path / "war.jsonl"
    s = thread_server(JsonStore(path))
    c = httpx.Client(base_url=s.url, timeout=30)
    assert post(c, [D, note("a"), note("b")]).status_code == 200
    replacement = tmp_path / "other.jsonl"
    other_history(replacement, 10)  # longer: a naive follower would stream its tail as ours
    os.replace(replacement, path)
    r = post(c, [note("into which file?")])
    assert r.status_code == 503, r.text
    wait_until(lambda: c.get("/api/v1/health").status_code == 503, 10, "health to say so")
    assert [orjson.loads(x)["data"].get("text") for x in s.app.state.hub.lines(0, 100)][1:] == ["a", "b"]
    c.close()


def test_a_replacement_that_continues_the_history_is_followed(
    thread_server: Callable[..., ThreadServer], tmp_path: Path
) -> None:
    path = tmp_path / "war.jsonl"
    s = thread_server(JsonStore(path))
    c = httpx.Client(base_url=s.url, timeout=30)
    assert post(c, [D, note("a")]).status_code == 200
    copy = tmp_path / "war.jsonl.new"
    copy.write_bytes(path.read_bytes())
    with JsonStore(copy) as st:  # e.g. written on another host, then moved into place
        st.append([note("appended to the copy")])
    os.replace(copy, path)
    r = post(c, [note("after the move")])
    assert r.status_code == 200, r.text
    assert r.json()["seqs"] == [4]
    wait_until(lambda: c.get("/api/v1/health").json()["seq"] == 4, 10, "the hub to follow")
    texts = [e["data"].get("text") for e in c.get("/api/v1/events").json()["events"]]
    assert texts == [None, "a", "appended to the copy", "after the move"]
    c.close()
