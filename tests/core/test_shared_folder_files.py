"""The files a process writes beside a shared store, attacked as the red team's second round
did (issue 9): a symlink or FIFO planted at a name we use, a full disk mid-record."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from incident_tui.domain.events import new_event
from incident_tui.server.delivery.outbox import Outbox, journal_path, read_journal
from incident_tui.store.jsonfile import JsonStore
from incident_tui.ui import documents


def test_the_delivery_journal_is_never_opened_through_a_planted_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious line1\nline2 no newline")
    journal = journal_path(tmp_path / "war.jsonl")
    journal.symlink_to(victim)
    with pytest.raises(OSError):
        Outbox(journal)
    assert victim.read_bytes() == b"precious line1\nline2 no newline"


def test_a_full_disk_mid_record_loses_no_queued_delivery(tmp_path: Path) -> None:
    """A short write used to leave a torn record with the next one glued to it: both lost."""
    path = tmp_path / "war.jsonl.deliveries.jsonl"
    code = (
        "import resource, os, sys\n"
        "from pathlib import Path\n"
        "from incident_tui.server.delivery.outbox import Outbox, Delivery\n"
        "p = Path(sys.argv[1]); o = Outbox(p); o.start(1)\n"
        "size = os.path.getsize(p)\n"
        "D = lambda i, n: Delivery(f'd{i}', 'hook', i, f's{i}', 'declared', 'inc', 1.0, b'x' * n)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (size + 100, resource.RLIM_INFINITY))\n"
        "try:\n"
        "    o.queue([D(2, 500)], 2); print('queued 2')\n"
        "except OSError:\n"
        "    print('refused 2')\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))\n"
        "o.queue([D(3, 10)], 3); print('queued 3')\n"
    )
    r = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60)
    assert r.stdout.split("\n")[:2] == ["refused 2", "queued 3"], (r.stdout, r.stderr)
    journal = read_journal(path)
    assert journal is not None and [d.id for d in journal.owed()] == ["d3"] and journal.cursor == 3


def test_a_fifo_at_the_index_name_neither_hangs_nor_stops_an_open(tmp_path: Path) -> None:
    store = tmp_path / "war.jsonl"
    with JsonStore(store) as s:
        s.append([new_event("inc", "note", "alice", {"text": f"n{i}"}) for i in range(50)])
    os.mkfifo(f"{store}.idx")
    got: list[int] = []
    t = threading.Thread(target=lambda: got.append(JsonStore(store, index_min_bytes=0).latest_seq()), daemon=True)
    t.start()
    t.join(30)
    assert not t.is_alive(), "the open hung on the FIFO"
    assert got == [50]


def test_an_export_never_writes_through_a_planted_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "victim_rc"
    victim.write_text("precious")
    (tmp_path / "INC-1-snapshot.md").symlink_to(victim)
    written = documents.write("INC-1", {"snapshot": "# the snapshot\n"}, [tmp_path])
    assert victim.read_text() == "precious"
    assert [p.name for p in written] == ["INC-1-snapshot.md"] and not written[0].is_symlink()
    assert written[0].read_text() == "# the snapshot\n"


def test_the_deliveries_verb_shows_no_password(in_process) -> None:
    for url in ("http://alice:hunter2@127.0.0.1:1", "http://alice:p%40ss hunter2,x#y@127.0.0.1:1"):
        r = in_process(["--remote", url, "deliveries"], {"INCIDENT_TUI_USER": "alice"})
        assert r.returncode == 1 and "hunter2" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_the_clients_own_files_are_never_written_through_a_planted_symlink_or_fifo(tmp_path: Path) -> None:
    """Round 3: the remote client's log cache and outbox (and their side files) in the data
    dir followed links (a victim file truncated and overwritten) and hung on FIFOs."""
    from incident_tui.store.logcache import LogCache
    from incident_tui.store.outbox import Outbox as ClientOutbox

    victim = tmp_path / "victim"
    victim.write_text("important line 1\n")
    cache = tmp_path / "cache.jsonl"
    cache.symlink_to(victim)
    c = LogCache(cache)
    assert c.load() == []
    c.save([new_event("inc", "note", "alice", {"text": "x"}).with_seq(1)])
    assert victim.read_text() == "important line 1\n"
    fifo = tmp_path / "outbox.jsonl"
    os.mkfifo(fifo)
    done: list[str] = []

    def add() -> None:
        try:
            ClientOutbox(fifo).add([new_event("inc", "note", "alice", {"text": "y"})])
        except OSError as exc:
            done.append(type(exc).__name__)

    t = threading.Thread(target=add, daemon=True)
    t.start()
    t.join(30)
    assert not t.is_alive() and done, "the outbox hung on a FIFO"
