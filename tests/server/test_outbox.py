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


def test_another_processs_changes_are_never_hidden_by_what_this_one_remembers(tmp_path: Path) -> None:
    # Two handles on one file behave as two processes (separate flocks). The app's handle
    # remembers what it wrote; a CLI run acks that and queues another event meanwhile.
    path = tmp_path / "o.jsonl"
    app, cli = Outbox(path), Outbox(path)
    d = declare_event("outbox", "alice")
    x = new_event(d.incident, "note", "alice", {"text": "x"})
    y = new_event(d.incident, "note", "alice", {"text": "y"})  # the same size of line as x
    app.add([x])
    assert [e.id for e in app.events()] == [x.id]
    cli.remove({x.id})  # the file is unlinked: nothing waits
    cli.add([y])  # a new file
    app.remove({x.id})  # from memory this would be "nothing left": unlink, and y is gone
    assert [e.id for e in app.events()] == [y.id]
    assert [e.id for e in Outbox(path).events()] == [y.id]
    app.close()
    cli.close()
