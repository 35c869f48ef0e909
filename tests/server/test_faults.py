"""Faults under load: answers lost after commit, streams cut, the server SIGKILLed.

Whatever happens, every acknowledged event is stored exactly once at the seq it was
acknowledged with, seq has no gap, and every reader ends with the same sequence."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from incident_tui.domain.commands import declare_event
from incident_tui.domain.events import Event, new_event
from incident_tui.store.jsonfile import JsonStore
from incident_tui.store.remote import RemoteStore

from .conftest import wait_until


class Writer(threading.Thread):
    """Appends notes one at a time until stopped; remembers what it wrote and what was acked."""

    def __init__(self, store: RemoteStore, incident: str, limit: int | None = None) -> None:
        super().__init__(daemon=True)
        self.store, self.incident, self.limit = store, incident, limit
        self.written: list[Event] = []
        self.acked: dict[str, int] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        i = 0
        while not self.stop.is_set() and (self.limit is None or i < self.limit):
            e = new_event(self.incident, "note", self.store.user, {"text": f"{self.store.user} {i}"})
            self.written.append(e)
            for got in self.store.append([e]):
                if got.seq is not None:
                    self.acked[got.id] = got.seq
            i += 1
            if self.limit is None:
                self.stop.wait(0.005)


def settle(clients: list[RemoteStore], log: JsonStore, expected: int, timeout: float = 30) -> list[Event]:
    """Wait until every outbox is empty and every reader holds the whole log."""

    def done() -> bool:
        return all(not c.pending() for c in clients) and log.latest_seq() == expected

    try:
        wait_until(done, timeout, "outboxes to drain")
    except AssertionError:
        state = [(c.user, len(c.pending()), c.link_state(), c.last_error) for c in clients]
        raise AssertionError(f"not drained: log {log.latest_seq()}/{expected}; clients {state}") from None
    for c in clients:
        wait_until(lambda c=c: len(c.read_cached()) == expected, timeout, f"{c.user} to catch up")
    return log.read()


def check(
    stored: list[Event],
    writers: list[Writer],
    clients: list[RemoteStore],
    first: Event,
    extra: frozenset[str] = frozenset(),
) -> None:
    ids = [e.id for e in stored]
    assert len(ids) == len(set(ids)), "an event was stored twice"
    assert [e.seq for e in stored] == list(range(1, len(stored) + 1)), "seq has a gap"
    written = {first.id} | {e.id for w in writers for e in w.written} | extra
    assert set(ids) == written, "a written event is missing"
    seq_of = {e.id: e.seq for e in stored}
    for w in writers:
        for eid, seq in w.acked.items():
            assert seq_of[eid] == seq, "an acknowledged seq changed"
    for c in clients:
        assert [e.id for e in c.read_cached()] == ids, f"{c.user} holds another sequence"


@pytest.mark.slow
@pytest.mark.parametrize("transport", ["sse", "poll"])
def test_lost_answers_and_cut_streams_lose_and_duplicate_nothing(thread_server, client, tmp_path: Path, transport):
    log = JsonStore(tmp_path / "faults.jsonl")
    s = thread_server(log, post_503=0.3, get_503=0.1, cut=0.15)
    clients = [client(s.url, f"user{i}", transport=transport) for i in range(4)]
    for c in clients:
        c.start()
    first = declare_event("under fire", "user0")
    clients[0].append([first])
    writers = [Writer(c, first.incident, limit=40) for c in clients]
    for w in writers:
        w.start()
    for w in writers:
        w.join(60)
    stored = settle(clients, log, 1 + 4 * 40)
    check(stored, writers, clients, first)
    assert s.faults is not None
    assert s.faults.injected["post_503"] > 5
    if transport == "sse":
        assert s.faults.injected["cut"] > 0


@pytest.mark.slow
def test_server_killed_and_restarted_mid_load_loses_no_acknowledged_event(proc_server, client, cli, tmp_path: Path):
    s = proc_server()
    clients = [client(s.url, f"user{i}") for i in range(3)]
    for c in clients:
        c.start()
    first = declare_event("kill -9", "user0")
    clients[0].append([first])
    assert cli("--remote", s.url, "list", user="carol").returncode == 0  # carol has seen the log once
    writers = [Writer(c, first.incident) for c in clients]
    for w in writers:
        w.start()
    wait_until(lambda: all(len(w.acked) >= 20 for w in writers), 20, "load before the kill")
    s.kill()
    wait_until(lambda: all(c.pending() for c in clients), 20, "writes queued while the server is away")
    # A CLI run while the server is away queues too, and exits 0.
    r = cli("--remote", s.url, "log", "INC-1", "typed during the outage", user="carol")
    assert r.returncode == 0, r.stderr
    assert "queued" in r.stderr
    s.start()
    wait_until(lambda: all(not c.pending() for c in clients), 30, "the outboxes to drain after the restart")
    counts = [len(w.acked) for w in writers]
    wait_until(lambda: all(len(w.acked) > n + 10 for w, n in zip(writers, counts, strict=True)), 20, "load after")
    for w in writers:
        w.stop.set()
    for w in writers:
        w.join(30)
    # carol's next run sends what her outage run queued, before anything else.
    r = cli("--remote", s.url, "events", "1", "--json", user="carol")
    assert r.returncode == 0, r.stderr
    log = JsonStore(s.store_path)
    total = 1 + sum(len(w.written) for w in writers) + 1
    wait_until(lambda: log.latest_seq() == total, 30, "every write to be stored")
    stored = settle(clients, log, total)
    carol = [e for e in stored if e.author == "carol"]
    assert [e.text for e in carol] == ["typed during the outage"]
    check(stored, writers, clients, first, frozenset(e.id for e in carol))
