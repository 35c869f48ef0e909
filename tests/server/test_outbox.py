"""The outbox on its own: nothing added is lost while other threads and processes remove."""

from __future__ import annotations

import threading
from pathlib import Path

from incident_tui.domain.commands import declare_event
from incident_tui.domain.events import new_event
from incident_tui.store.outbox import Outbox, outbox_path


def test_outbox_path_is_per_user_and_server(tmp_path: Path) -> None:
    a = outbox_path(tmp_path, "alice", "http://h:1")
    assert a != outbox_path(tmp_path, "bob", "http://h:1")
    assert a != outbox_path(tmp_path, "alice", "http://h:2")
    assert a.name.startswith("alice@h_1-")


def test_concurrent_adds_survive_removals_by_another_thread(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.jsonl")
    inc = declare_event("x", "a").incident
    added: list[str] = []
    removed: set[str] = set()
    stop = threading.Event()

    def remover() -> None:
        while not stop.is_set():
            waiting = box.events()
            ids = {e.id for e in waiting[: len(waiting) // 2]}
            box.remove(ids)
            removed.update(ids)

    t = threading.Thread(target=remover)
    t.start()
    for i in range(300):
        e = new_event(inc, "note", "a", {"text": str(i)})
        box.add([e])
        added.append(e.id)
    stop.set()
    t.join()
    left = {e.id for e in box.events()}
    assert set(added) == left | removed
    assert not left & removed


def test_a_torn_last_line_is_not_an_event(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.jsonl")
    e = declare_event("x", "a")
    box.add([e])
    with open(box.path, "ab") as f:
        f.write(b'{"id": "half')
    assert [x.id for x in box.events()] == [e.id]
