"""The shared JSON store with real files and real processes."""

from __future__ import annotations

import fcntl
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from tinydb import TinyDB, where

from incident_tui.domain.commands import declare_event
from incident_tui.domain.events import new_event
from incident_tui.store.base import StoreCorrupt, StoreError
from incident_tui.store.jsonfile import JsonStore
from incident_tui.store.tinydb_storage import EventLogStorage

WRITER = Path(__file__).with_name("writer.py")


def note(text: str, who: str = "alice"):
    return new_event("inc", "note", who, {"text": text})


def start_writer(path: Path, name: str, count: int, batch: int = 1) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WRITER), str(path), name, str(count), str(batch)],
        stdout=subprocess.PIPE,
        text=True,
    )


def acked(proc: subprocess.Popen[str], started: threading.Event | None = None) -> dict[str, int]:
    """Every `ack` line of a writer; `started` is set at its first acknowledged append."""
    assert proc.stdout is not None
    out = {}
    for line in proc.stdout:
        if line.startswith("ack "):
            _, eid, seq = line.split()
            out[eid] = int(seq)
            if started is not None:
                started.set()
    if started is not None:
        started.set()  # ended (or died) without one: nobody waits for ever
    return out


def _read_acks(proc: subprocess.Popen[str], into: dict[str, int]) -> None:
    """`acked`, filling `into` line by line (another thread watches it grow)."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("ack "):
            _, eid, seq = line.split()
            into[eid] = int(seq)


def assert_whole(path: Path) -> list:
    events = JsonStore(path).read()
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert len({e.id for e in events}) == len(events)
    return events


def test_append_assigns_seq_and_is_idempotent_by_id(store_path: Path) -> None:
    store = JsonStore(store_path)
    a, b = note("a"), note("b")
    assert [e.seq for e in store.append([a, b])] == [1, 2]
    again = store.append([b, note("c"), b])
    assert [e.seq for e in again] == [2, 3, 2]
    assert [e.data["text"] for e in JsonStore(store_path).read()] == ["a", "b", "c"]


def test_read_after_a_cursor_and_limit(store_path: Path) -> None:
    store = JsonStore(store_path)
    store.append([note(str(i)) for i in range(10)])
    assert [e.seq for e in store.read(7)] == [8, 9, 10]
    assert [e.seq for e in store.read(2, 3)] == [3, 4, 5]


def test_user_text_survives_the_file_byte_for_byte(store_path: Path) -> None:
    hostile = '[/] \x1b]52;c;aGk=\x07 \u202e ünïcødé "quotes" \\ \n second line'
    JsonStore(store_path).append([note(hostile)])
    assert JsonStore(store_path).read()[0].data["text"] == hostile


def test_four_writer_processes_lose_and_duplicate_nothing(store_path: Path) -> None:
    JsonStore(store_path)  # create once so the writers race on appends, not on creation
    procs = [start_writer(store_path, f"w{i}", 150, batch=1 + i % 3) for i in range(5)]
    got: dict[str, int] = {}
    for p in procs:
        got.update(acked(p))
        assert p.wait(60) == 0
    events = assert_whole(store_path)
    assert len(events) == 750 == len(got)
    assert {e.id: e.seq for e in events} == got


@pytest.mark.slow
def test_killed_writers_lose_no_acknowledged_event(store_path: Path) -> None:
    rng = random.Random(7)
    JsonStore(store_path)
    acknowledged: dict[str, int] = {}
    for _round in range(10):  # ten kills at random moments; each round starts three writers
        procs = [start_writer(store_path, f"k{i}", 10_000, batch=rng.choice([1, 5, 40])) for i in range(3)]
        results: list[dict[str, int]] = [{} for _ in procs]
        readers = [threading.Thread(target=_read_acks, args=(p, r)) for p, r in zip(procs, results, strict=True)]
        for t in readers:
            t.start()
        # Kill mid-write: once every writer has had an append acknowledged (a loaded machine
        # can take a second to start one), then at a random moment after that.
        deadline = time.monotonic() + 60
        while not all(results) and time.monotonic() < deadline and all(p.poll() is None for p in procs):
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.1))
        for p in procs:
            p.send_signal(signal.SIGKILL)
        for p in procs:
            p.wait()
        for t in readers:
            t.join()
        for r in results:
            acknowledged.update(r)
        events = {e.id: e.seq for e in assert_whole(store_path)}  # loads (repairing any torn tail)
        missing = set(acknowledged) - set(events)
        assert not missing, f"round {_round}: {len(missing)} acknowledged events lost"
        assert all(events[i] == s for i, s in acknowledged.items())
    assert len(acknowledged) > 100


def test_torn_tail_is_repaired_with_a_warning(store_path: Path) -> None:
    store = JsonStore(store_path)
    store.append([note("kept")])
    store.close()
    with open(store_path, "ab") as f:
        f.write(b'{"seq":2,"id":"half-writ')
    warnings: list[str] = []
    store = JsonStore(store_path, warn=warnings.append)
    assert [e.data["text"] for e in store.read()] == ["kept"]
    assert len(warnings) == 1 and "torn" in warnings[0] and ":3" in warnings[0]
    assert [e.seq for e in store.append([note("next")])] == [2]
    assert list(store_path.parent.glob("*.torn-*"))  # the torn bytes are kept for forensics


def test_power_cut_zeros_at_the_tail_are_repaired(store_path: Path) -> None:
    JsonStore(store_path).append([note("kept")])
    with open(store_path, "ab") as f:
        f.write(b"\0" * 512)
    store = JsonStore(store_path, warn=lambda m: None)
    assert len(store.read()) == 1 and store.append([note("x")])[0].seq == 2


@pytest.mark.parametrize(
    "content, where",
    [
        (b'{"_default": {"1": {"a": 1}}}', ":1:"),
        (b"not json at all\n", ":1:"),
        (None, ":3:"),  # a broken line in the middle of a good log, its seq unreadable
    ],
)
def test_a_file_that_does_not_parse_is_refused_and_left_untouched(store_path: Path, content, where) -> None:
    if content is None:
        JsonStore(store_path).append([note("a"), note("b"), note("c")])
        lines = store_path.read_bytes().split(b"\n")
        lines[2] = b"GARBAGE" + lines[2][20:]
        content = b"\n".join(lines)
    store_path.write_bytes(content)
    with pytest.raises(StoreCorrupt) as exc:
        JsonStore(store_path)
    assert str(store_path) + where in str(exc.value)
    assert "\n" not in str(exc.value)
    assert store_path.read_bytes() == content


def test_a_reader_never_sees_a_half_written_line(store_path: Path) -> None:
    writer, reader = JsonStore(store_path), JsonStore(store_path)
    writer.append([note("one")])
    line = (json.dumps({**note("two").to_dict(), "seq": 2}, separators=(",", ":")) + "\n").encode()
    line = b'{"seq":2,' + line[1:].replace(b',"seq":2', b"")
    lock = os.open(store_path, os.O_RDONLY)  # writers lock the store file itself
    fcntl.flock(lock, fcntl.LOCK_EX)  # a writer caught between two write() calls, holding the lock
    with open(store_path, "ab") as f:
        f.write(line[:25])
        f.flush()
        assert [e.seq for e in reader.read()] == [1]
        f.write(line[25:])
    fcntl.flock(lock, fcntl.LOCK_UN)
    os.close(lock)
    assert [e.data["text"] for e in reader.read()] == ["one", "two"]


def test_another_process_notices_a_new_event_quickly_through_wait(store_path: Path) -> None:
    store = JsonStore(store_path)
    store.append([note("before")])
    code = (
        "import sys,time,json\n"
        "from incident_tui.store.jsonfile import JsonStore\n"
        "s = JsonStore(sys.argv[1]); after = s.latest_seq(); print('ready', flush=True)\n"
        "ok = s.wait(after, 10); t = time.time()\n"
        "print(json.dumps({'ok': ok, 't': t, 'text': s.read(after)[0].data['text']}), flush=True)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(store_path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    store.append([note("after")])
    result = json.loads(proc.stdout.readline())
    assert proc.wait(10) == 0
    # How quickly is bench/bench_sync.py's one-host figure; here: woken by the append, not the timeout.
    assert result["ok"] and result["text"] == "after"


def test_wait_times_out_without_new_events(store_path: Path) -> None:
    store = JsonStore(store_path)
    t = time.monotonic()
    assert store.wait(0, 0.1) is False
    assert 0.09 < time.monotonic() - t < 1


def test_an_unwritable_store_is_a_runtime_error(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes anywhere")
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o500)
    with pytest.raises(StoreError):
        JsonStore(ro / "x" / "store.jsonl")


def test_tinydb_reads_and_appends_through_the_event_log_storage(store_path: Path) -> None:
    JsonStore(store_path).append([declare_event("db down", "alice"), note("hello #db")])
    db = TinyDB(str(store_path), storage=EventLogStorage)
    events = db.table("events")
    assert [d["kind"] for d in events.all()] == ["incident.declared", "note"]
    assert events.search(where("data")["text"] == "hello #db")[0]["seq"] == 2
    events.insert(note("via tinydb").to_dict())
    assert JsonStore(store_path).read()[-1].data["text"] == "via tinydb"
    with pytest.raises(StoreError, match="append-only"):
        events.remove(doc_ids=[1])
    db.close()
