"""The store's identity under the lock, and all-or-none appends, with real processes and files."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from incident_tui.domain.events import new_event
from incident_tui.store.jsonfile import JsonStore

from .test_json_store import acked, assert_whole, note, start_writer


def _start(path: Path, name: str, count: int, batch: int) -> tuple[object, dict[str, int], threading.Thread]:
    """A writer process, its acknowledgements collected by a thread; returns once it is
    appending (its first `ack` line), however slow its start on a loaded machine."""
    proc = start_writer(path, name, count, batch)
    got: dict[str, int] = {}
    started = threading.Event()
    t = threading.Thread(target=lambda: got.update(acked(proc, started)))
    t.start()
    assert started.wait(60), f"{name} never acknowledged a write"
    return proc, got, t


def test_deleting_the_lock_file_while_writers_run_gives_no_duplicate_seq(store_path: Path) -> None:
    JsonStore(store_path)
    lock = Path(f"{store_path}.lock")
    running = []
    # Three generations of writers, the lock file deleted before each new one starts: the
    # old ones hold the deleted file, the new ones create another. 8 processes in all.
    for gen, size in enumerate((3, 3, 2)):
        if gen:
            lock.unlink()
        for i in range(size):
            running.append(_start(store_path, f"g{gen}w{i}", 400, batch=1 + i % 3))
    got: dict[str, int] = {}
    for proc, acks, t in running:
        assert proc.wait(120) == 0  # type: ignore[attr-defined]
        t.join()
        got.update(acks)
    events = assert_whole(store_path)  # every seq once, no gap, every id once
    assert len(events) == len(got) == 8 * 400
    assert {e.id: e.seq for e in events} == got


def test_a_store_replaced_under_a_writer_is_followed_not_split(store_path: Path) -> None:
    old = JsonStore(store_path)
    old.append([note("one")])
    # Someone restores another copy over it (a rename, as `mv` or a restore tool does).
    other = store_path.with_name("restored.jsonl")
    JsonStore(other).append([note("r1"), note("r2")])
    os.replace(other, store_path)
    stored = old.append([note("after")])
    assert stored[0].seq == 3  # appended to the file the path names now, after its events
    assert [e.data["text"] for e in JsonStore(store_path).read()] == ["r1", "r2", "after"]


def test_a_torn_batch_reads_as_not_written_and_is_cut_whole(store_path: Path) -> None:
    store = JsonStore(store_path)
    store.append([note("kept")])
    inc = "0193f1c2-0000-7000-8000-000000000001"
    role = new_event(inc, "role.assigned", "alice", {"role": "commander", "user": "bob"})
    snap = new_event(inc, "snapshot", "alice", {"at_seq": 1, "to": "bob", "from": ""})
    store.append([role, snap])
    whole = store_path.read_bytes()
    first = whole.split(b"\n")[2]
    assert b'"batch":2' in first  # the batch is marked on its first line
    # A writer that died (or a disk that filled) after the first line of the two.
    store_path.write_bytes(whole[: whole.index(first) + len(first) + 1] + b'{"seq":3,"id":"')
    fresh = JsonStore(store_path, warn=lambda m: None)  # the next writer cuts the whole batch, keeps it aside
    assert [e.data.get("text") for e in fresh.read()] == ["kept"]
    assert len(list(store_path.parent.glob("*.torn-*"))) == 1
    assert fresh.append([role, snap])[1].seq == 3  # sent again, stored whole


def test_a_reader_without_the_lock_waits_for_the_rest_of_a_batch(store_path: Path) -> None:
    writer, reader = JsonStore(store_path), JsonStore(store_path)
    writer.append([note("a")])
    line = lambda seq, text, extra="": (  # noqa: E731
        json.dumps({"seq": seq, **({"batch": 2} if extra else {}), **note(text).to_dict()}, separators=(",", ":"))
        + "\n"
    ).encode()
    with open(store_path, "ab") as f:  # a writer between the two lines of one batch
        f.write(line(2, "b", "batch"))
        f.flush()
        assert [e.seq for e in reader.read()] == [1]
        f.write(line(3, "c"))
    assert [e.data["text"] for e in reader.read()] == ["a", "b", "c"]


def test_a_last_line_missing_only_its_newline_is_kept(store_path: Path) -> None:
    JsonStore(store_path).append([note("a")])
    e = note("typed by a tool that ends no line")
    with open(store_path, "ab") as f:
        f.write(json.dumps({"seq": 2, **e.to_dict()}).encode())  # complete, no newline
    warnings: list[str] = []
    store = JsonStore(store_path, warn=warnings.append)
    assert [x.data["text"] for x in store.read()] == ["a", "typed by a tool that ends no line"]
    assert store_path.read_bytes().endswith(b"}\n") and not list(store_path.parent.glob("*.torn-*"))
    assert len(warnings) == 1 and "newline" in warnings[0]
    assert store.append([note("b")])[0].seq == 3
