"""The outbox never loses, glues or silently drops a line, and never retries for ever an
event the server refuses for good: real files, a real server process, real clients."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from incident_tui.domain.commands import declare_event
from incident_tui.domain.events import new_event
from incident_tui.domain.schema import KIND_SCHEMAS, TEXT
from incident_tui.store.base import StoreError
from incident_tui.store.jsonfile import JsonStore
from incident_tui.store.outbox import Outbox

from .conftest import wait_until


def test_a_damaged_line_is_moved_aside_with_a_warning_and_the_rest_kept(tmp_path: Path) -> None:
    warnings: list[str] = []
    box = Outbox(tmp_path / "o.jsonl", warn=warnings.append)
    inc = declare_event("x", "a").incident
    a, b = new_event(inc, "note", "a", {"text": "a"}), new_event(inc, "note", "a", {"text": "b"})
    box.add([a])
    with open(box.path, "ab") as f:
        f.write(b"\x00\x17garbage from a damaged block\n")
    box.add([b])
    fresh = Outbox(box.path, warn=warnings.append)  # another process reads the file
    assert [e.id for e in fresh.events()] == [a.id, b.id]
    side = box.path.with_name(box.path.name + ".damaged")
    assert side.read_bytes() == b"\x00\x17garbage from a damaged block\n"  # byte for byte
    assert len(warnings) == 1 and "moved 1 unreadable line" in warnings[0]
    assert b"garbage" not in box.path.read_bytes()


def test_a_torn_last_line_is_never_glued_to_the_next_write(tmp_path: Path) -> None:
    warnings: list[str] = []
    box = Outbox(tmp_path / "o.jsonl", warn=warnings.append)
    inc = declare_event("x", "a").incident
    a, b = new_event(inc, "note", "a", {"text": "a"}), new_event(inc, "note", "a", {"text": "b"})
    box.add([a])
    with open(box.path, "ab") as f:
        f.write(b'{"id": "half-an-add')  # a crash mid-add, no newline
    box.add([b])
    assert [e.id for e in Outbox(box.path).events()] == [a.id, b.id]  # b is whole, not glued
    assert box.path.with_name(box.path.name + ".damaged").read_bytes() == b'{"id": "half-an-add\n'
    assert warnings and "unfinished last line" in warnings[0]


def test_an_event_this_version_refuses_is_set_aside_not_sent(tmp_path: Path) -> None:
    warnings: list[str] = []
    box = Outbox(tmp_path / "o.jsonl", warn=warnings.append)
    inc = declare_event("x", "a").incident
    good = new_event(inc, "note", "a", {"text": "fine"})
    old = {**new_event(inc, "followup", "a", {"text": "x"}).to_dict(), "data": {"text": "x", "owner": {"n": 1}}}
    with open(box.path, "wb") as f:  # an older version's outbox
        f.write(json.dumps(old).encode() + b"\n" + json.dumps(good.to_dict()).encode() + b"\n")
    assert [e.id for e in box.events()] == [good.id]
    kept = [json.loads(line) for line in box.path.with_suffix(".refused.jsonl").read_text().splitlines()]
    assert kept[0]["event"]["id"] == old["id"] and "owner" in kept[0]["reason"]
    assert len(warnings) == 1 and "set aside 1 event" in warnings[0]
    assert [e.id for e in Outbox(box.path).events()] == [good.id]  # said once: the file no longer holds it


@pytest.fixture
def newer_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process's schema knows a kind the server's (another process) does not: a newer
    client against an older server, the way a refusal for good really happens."""
    monkeypatch.setitem(KIND_SCHEMAS, "telepathy", {"text": TEXT})


def test_one_refused_event_in_a_burst_is_set_aside_alone_and_never_retried(
    tmp_path: Path, proc_server, client, newer_client, capsys
) -> None:
    server = proc_server()
    a = client(server.url)
    declared = declare_event("x", "alice")
    a.append([declared])
    server.kill()  # everything below waits in the outbox
    inc = declared.incident
    burst = [new_event(inc, "note", "alice", {"text": f"n{i}"}) for i in range(10)]
    doomed = new_event(inc, "telepathy", "alice", {"text": "from the future"})
    queued = a.append(burst[:4]) + a.append([doomed]) + a.append(burst[4:])
    assert all(e.seq is None for e in queued)
    server.start()
    b = client(server.url, user="alice2")
    b.read()
    a.start()
    wait_until(lambda: not a.pending(), 30, "the outbox to drain")
    log = JsonStore(server.store_path).read()
    assert [e.id for e in log] == [declared.id] + [e.id for e in burst]  # in order, the innocent all stored
    side = a.outbox.path.with_suffix(".refused.jsonl")
    assert [json.loads(x)["event"]["id"] for x in side.read_text().splitlines()] == [doomed.id]
    assert "refused 1 event(s) for good" in capsys.readouterr().err  # and on stderr
    a.append([new_event(inc, "note", "alice", {"text": "later"})])
    assert not a.pending() and len(side.read_text().splitlines()) == 1  # not sent again


def test_the_callers_own_refused_write_raises_but_the_rest_is_sent(tmp_path: Path, proc_server, client, newer_client):
    server = proc_server()
    a = client(server.url)
    declared = declare_event("x", "alice")
    a.append([declared])
    server.kill()
    fine = new_event(declared.incident, "note", "alice", {"text": "fine"})
    assert a.append([fine])[0].seq is None  # queued while the server is away
    server.start()
    doomed = new_event(declared.incident, "telepathy", "alice", {"text": "?"})
    with pytest.raises(StoreError, match="refused 1 event"):
        a.append([doomed])  # sends what waited first, then refuses this run's own write
    assert [e.id for e in JsonStore(server.store_path).read()] == [declared.id, fine.id]
    assert a.pending() == []


def test_a_command_is_queued_as_one_line_so_a_torn_add_never_sends_half_of_it(tmp_path: Path) -> None:
    warnings: list[str] = []
    box = Outbox(tmp_path / "o.jsonl", warn=warnings.append)
    inc = declare_event("x", "a").incident
    before = new_event(inc, "note", "a", {"text": "before"})
    box.add([before])
    role = new_event(inc, "role.assigned", "a", {"role": "commander", "user": "bob"})
    snap = new_event(inc, "snapshot", "a", {"at_seq": 1, "to": "bob", "from": "a"})
    box.add([role, snap])
    raw = box.path.read_bytes()
    assert raw.count(b"\n") == 2  # the handoff is one line
    box.events()
    assert box.group_of(role) == box.group_of(snap) == role.id != box.group_of(before)
    box.path.write_bytes(raw[: len(raw) - 40])  # a crash in the middle of writing it
    assert [e.id for e in Outbox(box.path, warn=warnings.append).events()] == [before.id]  # none of it


def test_a_refused_command_is_set_aside_whole_and_the_others_are_sent(
    tmp_path: Path, proc_server, client, newer_client
) -> None:
    server = proc_server()
    a = client(server.url)
    declared = declare_event("x", "alice")
    a.append([declared])
    server.kill()
    inc = declared.incident
    first = new_event(inc, "note", "alice", {"text": "first"})
    # One command of two events, the second of which the server cannot take.
    half = new_event(inc, "role.assigned", "alice", {"role": "commander", "user": "bob"})
    doomed = new_event(inc, "telepathy", "alice", {"text": "?"})
    last = new_event(inc, "note", "alice", {"text": "last"})
    a.append([first]), a.append([half, doomed]), a.append([last])
    server.start()
    a.start()
    wait_until(lambda: not a.pending(), 30, "the outbox to drain")
    assert [e.id for e in JsonStore(server.store_path).read()] == [declared.id, first.id, last.id]
    side = a.outbox.path.with_suffix(".refused.jsonl")
    assert {json.loads(x)["event"]["id"] for x in side.read_text().splitlines()} == {half.id, doomed.id}


def test_a_screen_that_takes_notices_gets_the_set_aside_note_instead_of_stderr(
    tmp_path: Path, proc_server, client, newer_client, capsys
) -> None:
    """The app claims the notices before its first read (ui/sync.follow_store): a line on
    stderr would only scramble its screen, so the note goes to a toast instead."""
    server = proc_server()
    a = client(server.url)
    declared = declare_event("x", "alice")
    a.append([declared])
    server.kill()
    doomed = new_event(declared.incident, "telepathy", "alice", {"text": "from the future"})
    a.append([doomed])
    server.start()
    assert a.take_notices() == []  # claimed, as the app does
    a.start()
    wait_until(lambda: not a.pending(), 30, "the outbox to drain")
    notes = a.take_notices()
    assert len(notes) == 1 and "refused 1 event(s) for good" in notes[0] and "set aside" in notes[0]
    assert a.take_notices() == []
    assert "refused" not in capsys.readouterr().err


def test_a_full_disk_under_the_outbox_is_an_error_not_a_queued_line(tmp_path: Path) -> None:
    """A short write used to be called queued (exit 0) and the torn line later moved aside:
    a write lost while the person was told it waits. RLIMIT_FSIZE stands in for a full disk."""
    import resource
    import subprocess
    import sys

    path = tmp_path / "outbox.jsonl"
    Outbox(path).add([new_event("inc", "note", "alice", {"text": "first"})])
    size = path.stat().st_size
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from incident_tui.domain.events import new_event\n"
        "from incident_tui.store.outbox import Outbox\n"
        "try:\n"
        "    Outbox(Path(sys.argv[1])).add([new_event('inc', 'note', 'alice', {'text': 'y' * 4000})])\n"
        "except OSError as exc:\n"
        "    print(exc.strerror)\n"
        "    sys.exit(1)\n"
    )
    limit = size + 1000

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    r = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, preexec_fn=cap, timeout=60
    )
    assert r.returncode == 1 and "too large" in r.stdout.lower(), (r.stdout, r.stderr)
    assert path.stat().st_size == size  # cut back: no torn line for the next run to move aside
    assert [e.data["text"] for e in Outbox(path).events()] == ["first"]
