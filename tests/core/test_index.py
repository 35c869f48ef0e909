"""The JSON store's index is derived and disposable: whatever happens to it, and whatever
the log went through (torn tails, kills mid-append, concurrent writers), every answer is
the one the log alone gives."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incident_tui.domain.events import Event, at_ms, new_event
from incident_tui.domain.fold import Registry
from incident_tui.store import folded
from incident_tui.store import jsonfile as jsonfile_module
from incident_tui.store.base import StoreError
from incident_tui.store.index import encode_state, index_path
from incident_tui.store.jsonfile import JsonStore

from .test_json_store import start_writer

NO_INDEX = 1 << 62  # index_min_bytes that no test store reaches


def acked(proc: subprocess.Popen[str], first: threading.Event) -> dict[str, int]:
    """The writer's acknowledged ids and seqs; `first` is set at its first one (or its end)."""
    assert proc.stdout is not None
    out = {}
    for line in proc.stdout:
        if line.startswith("ack "):
            _, eid, seq = line.split()
            out[eid] = int(seq)
            first.set()
    first.set()
    return out


def answers(store: JsonStore) -> dict[str, Any]:
    """Everything a reader can ask, in comparable form."""
    reg = folded(store)
    return {
        "latest": store.latest_seq(),
        "order": [s.id for s in reg.order],
        "last_seq": reg.last_seq,
        "orphans": reg.orphans,
        "states": [encode_state(s) for s in reg.order],
        "timelines": [[e.to_dict() for e in s.timeline] for s in reg.order],
        "rows_by_position": [[s.timeline[i].seq for i in range(len(s.timeline) - 1, -1, -7)] for s in reg.order],
        "tail": [e.to_dict() for e in store.read(max(0, store.latest_seq() - 5))],
    }


def truth(path: Path, tmp: Path) -> dict[str, Any]:
    """The answers of the log alone: a copy, opened without any index."""
    copy = tmp / "truth" / path.name
    copy.parent.mkdir(exist_ok=True)
    for old in copy.parent.iterdir():
        old.unlink()
    shutil.copyfile(path, copy)
    store = JsonStore(copy, index_min_bytes=NO_INDEX, warn=lambda _: None)
    try:
        out = answers(store)
        out["all"] = [e.to_dict() for e in store.read()]
        reg = Registry()
        reg.extend(store.read())
        assert [encode_state(s) for s in reg.order] == out["states"]
        return out
    finally:
        store.close()


def indexed(path: Path, *, must_use_index: bool = False) -> dict[str, Any]:
    store = JsonStore(path, index_min_bytes=0, warn=lambda _: None)
    try:
        if must_use_index:  # opened from the index: only the tail past it is held
            assert store._index is not None and store._base == store._index.last_seq
        for state in folded(store).incidents.values():  # each indexed row's time, as the row says
            kept = getattr(state.timeline, "at_keys", lambda: None)()
            if kept is not None:
                assert list(kept) == [at_ms(state.timeline[i].at) for i in range(len(kept))]
        out = answers(store)
        out["all"] = [e.to_dict() for e in store.read()]
        return out
    finally:
        store.close()


def _entry(rng: random.Random, incident: str, n: int) -> Event:
    kind = rng.choice(
        [
            "note",
            "decision",
            "hypothesis",
            "followup",
            "why",
            "detected",
            "update",
            "rootcause",
            "hypothesis.confirmed",
            "hypothesis.rejected",
            "followup.done",
            "severity.set",
            "phase.set",
            "title.set",
            "role.assigned",
            "role.released",
            "checklist.set",
            "snapshot",
            "mitigation",
            "dataloss",
            "background",
            "lesson",
            "followup.link",
            "alert",
        ]
    )
    data: dict[str, Any]
    text_kinds = ("note", "decision", "hypothesis", "followup", "why", "detected", "update", "rootcause")
    if kind in (*text_kinds, "mitigation", "dataloss", "background", "lesson"):
        data = {"text": f'line {n} \u00e9 "q" {"x" * rng.randrange(0, 300)}', "tags": ["db"]}
        if kind == "followup":
            data["owner"] = rng.choice(["bob", ""])
        if kind == "why" and rng.random() < 0.5:
            data["chain"] = rng.choice(["recovery", "impact"])
        if kind == "lesson":
            data["lesson"] = rng.choice(["well", "wrong", "lucky"])
    elif kind == "followup.link":
        data = {"number": rng.randrange(1, 4), "url": f"https://t.example/{n}"}
    elif kind == "alert":
        data = {
            "status": rng.choice(["firing", "resolved"]),
            "fingerprint": f"fp{rng.randrange(3)}",
            "labels": {"severity": "critical"},
            "summary": "pool",
            "url": "",
            "group": f"g{rng.randrange(3)}",
        }
    elif kind in ("hypothesis.confirmed", "hypothesis.rejected", "followup.done"):
        data = {"number": rng.randrange(1, 4)}
    elif kind == "severity.set":
        data = {"severity": f"SEV{rng.randrange(1, 6)}"}
    elif kind == "phase.set":
        data = {"phase": rng.choice(["triage", "mitigating", "monitoring", "resolved", "closed"])}
    elif kind == "title.set":
        data = {"value": f"title {n}"}
    elif kind in ("role.assigned", "role.released"):
        data = {"role": rng.choice(["commander", "sme"]), "user": rng.choice(["ann", "bob"])}
    elif kind == "checklist.set":
        data = {"phase": "detected", "item": rng.choice(["a", "b"]), "done": rng.random() < 0.7}
    else:
        data = {"at_seq": n, "to": "bob", "from": "ann"}
    return new_event(incident, kind, rng.choice(["ann", "bob", "cy"]), data)


OPS = st.lists(
    st.sampled_from(
        ["declare", "entry", "entry", "entry", "batch", "dup", "orphan", "torn", "reopen", "delete", "corrupt"]
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=35, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS, seed=st.integers(0, 2**32 - 1))
def test_random_logs_give_the_same_answers_with_and_without_the_index(
    ops: list[str], seed: int, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jsonfile_module, "INDEX_REFRESH_LINES", 3)  # rewrites happen within a short log
    tmp = tmp_path_factory.mktemp("idx")
    path = tmp / "incidents.jsonl"
    rng = random.Random(seed)
    incidents: list[str] = []
    appended: list[Event] = []
    store = JsonStore(path, index_min_bytes=0, warn=lambda _: None)
    n = 0
    for op in ops:
        n += 1
        if op == "declare" or (op in ("entry", "batch") and not incidents):
            e = new_event(
                new_event("x", "note", "a").id, "incident.declared", "ann", {"title": f"inc {n}", "severity": "SEV2"}
            )
            incidents.append(e.incident)
            batch = [e]
        elif op == "entry":
            batch = [_entry(rng, rng.choice(incidents), n)]
        elif op == "batch":
            batch = [_entry(rng, rng.choice(incidents), n + i) for i in range(rng.randrange(2, 30))]
        elif op == "dup" and appended:
            batch = (
                [rng.choice(appended), _entry(rng, rng.choice(incidents), n)] if incidents else [rng.choice(appended)]
            )
        elif op == "orphan":
            batch = [_entry(rng, "never-declared-" + str(rng.randrange(2)), n)]
        elif op == "torn":
            with open(path, "ab") as f:  # what a writer killed mid-append leaves
                f.write(b'{"seq":' + str(rng.randrange(1, 99)).encode() + b',"id":"torn')
            continue
        elif op == "reopen":
            store.close()
            store = JsonStore(path, index_min_bytes=0, warn=lambda _: None)
            continue
        elif op == "delete":
            Path(index_path(path)).unlink(missing_ok=True)
            continue
        elif op == "corrupt":
            idx = Path(index_path(path))
            if idx.exists() and idx.stat().st_size:
                raw = bytearray(idx.read_bytes())
                raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
                idx.write_bytes(bytes(raw))
            continue
        else:
            continue
        stored = store.append(batch)
        first = {e.id: e for e in appended}
        for b, s in zip(batch, stored, strict=True):
            if b.id in first:
                assert s.seq == first[b.id].seq  # idempotent by id, index or not
        appended.extend(s for s in stored if s.id not in first)
        # The store that wrote answers like the log, as does a fresh open (index or not).
        if rng.random() < 0.3:
            assert answers(store) == {k: v for k, v in truth(path, tmp).items() if k != "all"}
    store.close()
    expected = truth(path, tmp)
    assert indexed(path) == expected
    # The second open reads the index the first one wrote.
    assert indexed(path, must_use_index=bool(expected["all"])) == expected
    assert os.path.exists(index_path(path))
    Path(index_path(path)).unlink()
    assert indexed(path) == expected


def test_a_store_written_without_an_index_opens_unchanged(store_path: Path, tmp_path: Path) -> None:
    old = JsonStore(store_path, index_min_bytes=NO_INDEX)
    rng = random.Random(3)
    declared = new_event("x", "note", "a")
    inc = new_event(declared.id, "incident.declared", "ann", {"title": "t", "severity": "SEV1"})
    old.append([inc])
    old.append([_entry(rng, inc.incident, i) for i in range(300)])
    old.close()
    before = hashlib.sha256(store_path.read_bytes()).hexdigest()
    expected = truth(store_path, tmp_path)
    assert indexed(store_path) == expected
    assert os.path.exists(index_path(store_path))
    assert hashlib.sha256(store_path.read_bytes()).hexdigest() == before  # the log itself is untouched


def test_an_index_of_another_log_is_not_believed(store_path: Path, tmp_path: Path) -> None:
    rng = random.Random(5)
    a = JsonStore(store_path, index_min_bytes=0)
    inc = new_event(new_event("x", "note", "a").id, "incident.declared", "ann", {"title": "a", "severity": "SEV1"})
    a.append([inc, *(_entry(rng, inc.incident, i) for i in range(50))])
    a.close()
    JsonStore(store_path, index_min_bytes=0).close()  # writes the index
    stale = Path(index_path(store_path)).read_bytes()
    # The log replaced by another of the same length and shape: same inode is not enough.
    other = tmp_path / "other.jsonl"
    b = JsonStore(other, index_min_bytes=NO_INDEX)
    inc2 = new_event(new_event("x", "note", "a").id, "incident.declared", "zed", {"title": "b", "severity": "SEV4"})
    b.append([inc2, *(_entry(random.Random(6), inc2.incident, i) for i in range(50))])
    b.close()
    with open(store_path, "r+b") as f:  # in place: the inode stays
        f.truncate(0)
        f.write(other.read_bytes())
    Path(index_path(store_path)).write_bytes(stale)
    assert indexed(store_path) == truth(store_path, tmp_path)


@pytest.mark.slow
def test_killed_and_concurrent_writers_with_the_index_deleted_or_damaged_at_random(
    store_path: Path, tmp_path: Path
) -> None:
    """Writers (child processes) that open the store through its index are killed at
    random moments; between rounds the index is deleted, damaged or left alone."""
    rng = random.Random(16)
    seed = JsonStore(store_path, index_min_bytes=NO_INDEX)
    inc = new_event(new_event("x", "note", "a").id, "incident.declared", "ann", {"title": "a", "severity": "SEV1"})
    seed.append([inc])
    while store_path.stat().st_size < jsonfile_module.INDEX_MIN_BYTES + 4096:  # writers then use the index
        seed.append([_entry(rng, inc.incident, i) for i in range(500)])
    seed.close()
    JsonStore(store_path).close()
    acknowledged: dict[str, int] = {}
    actions = ["delete", "corrupt", "keep"]
    rng.shuffle(actions)
    for action in actions:  # each once (six random rounds cost twice the time and could miss one)
        procs = [start_writer(store_path, f"k{i}", 3000, batch=rng.choice([1, 7])) for i in range(3)]
        results: list[dict[str, int]] = [{} for _ in procs]
        started = [threading.Event() for _ in procs]
        readers = [
            threading.Thread(target=lambda p=p, r=r, f=f: r.update(acked(p, f)))
            for p, r, f in zip(procs, results, started, strict=True)
        ]
        for t in readers:
            t.start()
        for f in started:
            f.wait(60)
        idx = Path(index_path(store_path))
        if action == "delete":
            idx.unlink(missing_ok=True)
        elif action == "corrupt" and idx.exists():
            raw = bytearray(idx.read_bytes())
            for _ in range(3):
                raw[rng.randrange(len(raw))] ^= 0xFF
            idx.write_bytes(bytes(raw))
        threading.Event().wait(rng.uniform(0.0, 0.3))  # a random moment to kill at
        for p in procs:
            p.send_signal(signal.SIGKILL)
        for p in procs:
            p.wait()
        for t in readers:
            t.join()
        for r in results:
            acknowledged.update(r)
        got = indexed(store_path)
        assert got == truth(store_path, tmp_path)
        seqs = {e["id"]: e["seq"] for e in got["all"]}
        assert all(seqs.get(i) == s for i, s in acknowledged.items()), "an acknowledged event was lost or moved"
    assert len(acknowledged) > 100


def test_rows_read_in_bulk_are_the_logs_own_and_a_line_changed_under_the_index_is_refused(
    store_path: Path, tmp_path: Path
) -> None:
    """Timelines are read from the log a block at a time (a run of consecutive seqs is split
    into lines in one go): a line of the wrong shape in such a run reads as it does without
    the index, and a line rewritten in place under the index is refused, never shown."""
    rng = random.Random(8)
    store = JsonStore(store_path, index_min_bytes=NO_INDEX)
    a, b = (
        new_event(new_event("x", "note", "a").id, "incident.declared", "ann", {"title": t, "severity": "SEV2"})
        for t in "ab"
    )
    store.append([a, b])
    store.append([_entry(rng, a.incident, i) for i in range(200)])  # a run of one incident's rows
    store.append([_entry(rng, (a, b)[i % 2].incident, i) for i in range(100)])  # two, interleaved
    store.close()
    lines = store_path.read_bytes().split(b"\n")
    broken = json.loads(lines[60])  # seq 60, inside the run: a broken writer's author
    broken["author"] = 7
    lines[60] = json.dumps(broken).encode()
    store_path.write_bytes(b"\n".join(lines))
    assert indexed(store_path, must_use_index=False) == truth(store_path, tmp_path)
    assert indexed(store_path, must_use_index=True)["timelines"] == truth(store_path, tmp_path)["timelines"]

    with open(store_path, "r+b") as f:  # the same length, in place: the index's probes cannot see it
        data = f.read()
        at = data.index(b'{"seq":150,')
        f.seek(at)
        f.write(b'{"seq":151,')
    reopened = JsonStore(store_path, index_min_bytes=0, warn=lambda _: None)
    try:
        with pytest.raises(StoreError, match="seq 151 where 150 was due"):
            reopened.read()
        with pytest.raises(StoreError, match="changed under its index"):
            list(folded(reopened).incidents[a.incident].timeline)
    finally:
        reopened.close()


def test_a_line_damaged_in_place_under_the_index_drops_it_and_the_next_open_reads_the_log(
    store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A byte damaged inside a line the index covers (bad luck on disk, a hand edit), past the
    ends the index checks at open: the reader that meets it never shows it, drops the index,
    and the next open answers as the log alone does. The read verbs do that by themselves."""
    from incident_tui.cli import main

    rng = random.Random(9)
    store = JsonStore(store_path, index_min_bytes=NO_INDEX)
    a = new_event(new_event("x", "note", "a").id, "incident.declared", "ann", {"title": "a", "severity": "SEV2"})
    store.append([a])
    store.append([_entry(rng, a.incident, i) for i in range(300)])
    store.close()
    JsonStore(store_path, index_min_bytes=0).close()  # the index, built over the sound log
    assert Path(index_path(store_path)).exists()
    with open(store_path, "r+b") as f:  # one byte, in place: JSON no more
        data = f.read()
        at = data.index(b'"id"', data.index(b'{"seq":150,'))
        f.seek(at)
        f.write(b"?")
    store = JsonStore(store_path, index_min_bytes=0, warn=lambda _: None)
    try:
        rows = folded(store).incidents[a.incident].timeline
        assert [e.to_dict() for e in rows] == truth(store_path, tmp_path)["timelines"][0]
        assert not Path(index_path(store_path)).exists()  # never trusted again
        assert rows[149].seq == 150 and not rows[149].kind  # read by position: an unreadable row
    finally:
        store.close()
    assert indexed(store_path)["timelines"] == truth(store_path, tmp_path)["timelines"]

    # The same again, met by the CLI's postmortem: it answers, from the log, in one go.
    Path(index_path(store_path)).unlink()
    with open(store_path, "r+b") as f:
        f.seek(at)
        f.write(b'"')  # sound again
    JsonStore(store_path, index_min_bytes=0).close()
    with open(store_path, "r+b") as f:
        f.seek(at)
        f.write(b"?")
    monkeypatch.setattr(jsonfile_module, "INDEX_MIN_BYTES", 0)
    monkeypatch.setenv("INCIDENT_TUI_STORE", str(store_path))
    assert main(["postmortem", "INC-1", "-o", str(tmp_path / "pm.md")]) == 0
    assert not Path(index_path(store_path)).exists()  # dropped by the postmortem's read
    assert main(["events", "INC-1"]) == 0
    out = capsys.readouterr()
    assert len(out.out.splitlines()) == 301  # the unreadable line is listed, as "?"
    assert "seq 150" in out.err  # named by the open that rebuilt the index ...
    assert Path(index_path(store_path)).exists()
    assert main(["list"]) == 0
    assert "seq 150" in capsys.readouterr().err  # ... and by every open after it, from the index

    # And by the server's child that renders a big document.
    Path(index_path(store_path)).unlink()
    with open(store_path, "r+b") as f:
        f.seek(at)
        f.write(b'"')
    JsonStore(store_path, index_min_bytes=0).close()
    with open(store_path, "r+b") as f:
        f.seek(at)
        f.write(b"?")
    prog = (  # in a process of its own, as the server runs it (it renices itself, sets the collector)
        "import sys; from datetime import UTC, datetime;"
        "from incident_tui.store import jsonfile; jsonfile.INDEX_MIN_BYTES = 0;"
        "from incident_tui.domain.checklists import default_runbooks;"
        "from incident_tui.server.documents import render_from_file;"
        "now = datetime(2026, 12, 8, tzinfo=UTC);"
        "doc = render_from_file(sys.argv[1], sys.argv[2], 'postmortem', default_runbooks(), now, 'md', None);"
        "sys.stdout.buffer.write(doc)"
    )
    doc = subprocess.run([sys.executable, "-c", prog, str(store_path), a.incident], capture_output=True, check=True)
    assert doc.stdout.startswith(b"# Postmortem")
