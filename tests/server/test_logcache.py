"""The remote store's disk copy of the log: kept up while live, read back up to damage."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from incident_tui.domain.commands import declare_event
from incident_tui.domain.events import new_event
from incident_tui.store.jsonfile import JsonStore
from incident_tui.store.logcache import LogCache
from incident_tui.store.memory import MemoryStore
from incident_tui.store.outbox import outbox_path

from .conftest import ThreadServer, wait_until


def stored(n: int) -> list:
    m = MemoryStore()
    d = declare_event("cached", "alice")
    m.append([d])
    m.append([new_event(d.incident, "note", "alice", {"text": f"n{i}"}) for i in range(n - 1)])
    return m.read()


def test_appends_only_what_is_new_and_reads_it_all_back(tmp_path: Path) -> None:
    events = stored(30)
    c = LogCache(tmp_path / "c.jsonl")
    c.save(events[:10])
    before = (tmp_path / "c.jsonl").read_bytes()
    ino = (tmp_path / "c.jsonl").stat().st_ino
    c.save(events)
    after = (tmp_path / "c.jsonl").read_bytes()
    assert after.startswith(before) and len(after.splitlines()) == 30
    assert (tmp_path / "c.jsonl").stat().st_ino == ino  # appended to, not rewritten
    assert [e.id for e in LogCache(tmp_path / "c.jsonl").load()] == [e.id for e in events]


def test_a_torn_tail_or_a_broken_sequence_keeps_the_good_prefix_and_is_cut(tmp_path: Path) -> None:
    events = stored(20)
    path = tmp_path / "c.jsonl"
    LogCache(path).save(events[:12])
    good = path.stat().st_size
    with open(path, "ab") as f:
        f.write(b'{"seq": 13, "id": "torn')  # a write cut short by a crash
    c = LogCache(path)
    assert len(c.load()) == 12 and path.stat().st_size == good
    c.save(events)  # appends after the good lines, not after the garbage
    assert [e.seq for e in LogCache(path).load()] == list(range(1, 21))
    # Two processes appending the same events at once: the repeat is where reading stops.
    with open(path, "ab") as f:
        f.write(path.read_bytes().splitlines(keepends=True)[5])
    assert len(LogCache(path).load()) == 20


def test_a_killed_app_process_leaves_a_cache_of_what_it_had_streamed(server: ThreadServer, tmp_path: Path) -> None:
    store: JsonStore = server.store  # type: ignore[assignment]
    d = declare_event("kill -9 me", "bob")
    store.append([d])
    data = tmp_path / "data-alice"
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from incident_tui.store.remote import RemoteStore\n"
            "s = RemoteStore(sys.argv[1], user='alice', data_dir=sys.argv[2]); s.start()\n"
            "print('live', flush=True); time.sleep(60)",
            server.url,
            str(data),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "live"
        for k in range(3):
            store.append([new_event(d.incident, "note", "bob", {"text": f"n{k}-{i}"}) for i in range(500)])
        cache = outbox_path(data, "alice", server.url.rstrip("/"), "cache")
        # 1501 events arrive: once 1000 wait, the cache is written whole; after that each
        # streamed chunk is appended as the server sent it. All without any close().
        wait_until(lambda: cache.exists() and len(cache.read_bytes().splitlines()) == 1501, 10, "the cache")
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    held = LogCache(cache).load()
    assert [e.id for e in held] == [e.id for e in store.read()]


def test_a_last_line_without_its_newline_is_cut_not_joined_to_the_next_append(tmp_path: Path) -> None:
    events = stored(5)
    path = tmp_path / "c.jsonl"
    LogCache(path).save(events[:3])
    path.write_bytes(path.read_bytes().rstrip(b"\n"))  # the third line's newline never written
    c = LogCache(path)
    assert [e.seq for e in c.load()] == [1, 2]
    c.save(events)
    assert [e.seq for e in LogCache(path).load()] == [1, 2, 3, 4, 5]
