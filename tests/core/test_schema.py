"""One schema for every event: every door refuses a malformed event with one line, and
every reader folds everything else around an event it cannot fold."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from poison import POISON, base, poisoned_store

from incident_tui.cli import main
from incident_tui.domain.checklists import load_runbooks
from incident_tui.domain.commands import declare_event, to_events
from incident_tui.domain.events import Event, EventError, new_event
from incident_tui.domain.fold import fold
from incident_tui.domain.model import KINDS
from incident_tui.domain.schema import (
    EVENT_MAX_BYTES,
    KIND_SCHEMAS,
    TEXT_MAX_BYTES,
    EventTooLarge,
    check_foldable,
    validate_event,
)
from incident_tui.store.jsonfile import JsonStore
from incident_tui.store.memory import MemoryStore

RUNBOOKS = load_runbooks()


@pytest.mark.parametrize("name", POISON)
def test_every_poison_shape_is_refused_at_the_door_with_one_line(name: str) -> None:
    with pytest.raises(EventError) as exc:
        validate_event(POISON[name])
    assert "\n" not in str(exc.value) and len(str(exc.value)) < 300


def test_size_refusals_are_their_own_kind_of_refusal() -> None:
    with pytest.raises(EventTooLarge):
        validate_event(POISON["a 900 KB title"])
    with pytest.raises(EventTooLarge):
        validate_event(POISON["text 64 KiB + 1 in bytes, fewer characters"])
    big = base("incident.declared", {"title": "t", "severity": "SEV2", "summary": "s" * TEXT_MAX_BYTES})
    validate_event(big)  # the largest a kind allows fits under the whole-event cap
    assert EVENT_MAX_BYTES > TEXT_MAX_BYTES + 1024


def test_every_kind_the_command_language_writes_passes_the_door() -> None:
    declared = replace(declare_event("db down #db", "alice", "SEV2", "summary"), seq=1)
    state = fold([declared]).incidents[declared.incident]
    lines = [
        "note #db",
        "/decision d",
        "/action a",
        "/obs o",
        "/hypothesis h",
        "/update u",
        "/detected d",
        "/rootcause r",
        "/why w",
        "/followup f @bob due:2026-12-01",
        "/sev 1",
        "/phase triage",
        "/assign scribe bob",
        "/handoff carol",
        "/check 1",
        "/title t",
        "/summary s",
        "/impact i",
        "/category data",
        "/resolve",
    ]
    kinds = {"incident.declared"}
    for line in lines:
        for e in to_events(line, state, "alice", RUNBOOKS):
            validate_event(e.to_dict())
            kinds.add(e.kind)
    assert len(kinds) >= 15


def test_the_schema_knows_every_kind_of_the_model() -> None:
    # A kind added to the model without its fields in the schema would be refused at every door.
    assert set(KIND_SCHEMAS) == set(KINDS)


def test_stores_refuse_a_poison_event_and_write_nothing(tmp_path: Path) -> None:
    for store in (JsonStore(tmp_path / "s.jsonl"), MemoryStore()):
        for name, d in POISON.items():
            if name == "unknown envelope field":
                continue  # an Event has no place for it; the wire form is checked above
            e = Event(**{k: d.get(k) for k in ("id", "incident", "at", "author", "kind")}, data=d.get("data"))
            with pytest.raises(Exception, match=r"refused|event|data|at"):
                store.append([new_event("x", "note", "a", {"text": "good"}), e])
        assert store.latest_seq() == 0


def test_the_fold_skips_what_it_cannot_fold_with_one_warning_each(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    inc, bad_seqs = poisoned_store(path)
    events = JsonStore(path).read()
    warnings: list[str] = []
    reg = fold(events, warn=warnings.append)
    state = reg.incidents[inc]
    texts = [e.data.get("text") for e in state.timeline if e.kind in ("note", "followup")]
    assert texts[0] == "before" and texts[-1] == "after"
    assert state.severity == "SEV1" and state.followups[-1].owner == "carol"
    skipped = [seq for seq, _ in reg.skipped]
    # Shapes a fold can use (sizes, names, unknown fields) fold; the rest are skipped, named by seq.
    for seq in skipped:
        assert sum(f"seq {seq}:" in w for w in warnings) == 1
    assert set(skipped) <= set(bad_seqs) | {events[-1].seq}
    assert events[-1].seq in skipped  # the duplicated id
    for name in ("followup owner an object", "note tags a number", "role a list", "at in year 9999 with an offset"):
        seq = bad_seqs[[n for n in POISON if n != "a lone surrogate"].index(name)]
        assert seq in skipped, name
    assert bad_seqs[-1] in skipped  # no kind
    for e in state.timeline:
        check_foldable(e)


def test_the_cli_stays_up_on_a_poisoned_store(tmp_path: Path, capsys, monkeypatch) -> None:
    path = tmp_path / "s.jsonl"
    _, bad_seqs = poisoned_store(path)
    monkeypatch.setenv("INCIDENT_TUI_STORE", str(path))
    monkeypatch.setenv("INCIDENT_TUI_USER", "dave")
    verbs = (["list"], ["show", "1"], ["show", "1", "--json"], ["events"], ["events", "--json"], ["postmortem", "1"])
    for argv in verbs:
        assert main(argv) == 0, argv
        err = capsys.readouterr().err
        if argv[0] != "events":
            assert f"seq {bad_seqs[0]}:" in err and "\x1b" not in err
    assert main(["log", "1", "/decision keep going"]) == 0  # writers still append
    capsys.readouterr()
    assert main(["snapshot", "1", "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out)["severity"] == "SEV1"


def test_a_poisoned_store_through_the_real_cli_process(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    poisoned_store(path)
    env = {
        "INCIDENT_TUI_STORE": str(path),
        "INCIDENT_TUI_USER": "erin",
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": os.pathsep.join(sys.path),  # the code under test
    }
    run = subprocess.run([sys.executable, "-m", "incident_tui", "show", "1"], capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr and "checkout down" in run.stdout
    assert run.stderr.count("skipped an event this version cannot fold") >= 10


def test_the_command_door_refuses_with_exit_2(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("INCIDENT_TUI_STORE", str(tmp_path / "s.jsonl"))
    assert main(["--user", "mallory\x1b]0;x\x07", "declare", "t"]) == 2
    err = capsys.readouterr().err
    assert "author" in err and "\x1b" not in err and err.count("\n") == 1
    assert main(["--user", "bob", "declare", "t" * 2000]) == 2
    assert "bytes" in capsys.readouterr().err
    assert JsonStore(tmp_path / "s.jsonl").latest_seq() == 0


@pytest.mark.parametrize(
    "at",
    [
        "20261208T000500Z",
        "2026-W49-2T00:05:00Z",
        "2026-12-08T00:05:00,000Z",
        "2026-12-08 00:05:00Z",
        "2026-12-08T00:05:00+2359",
    ],
)
def test_at_the_doors_at_is_the_one_form_every_client_writes(at: str) -> None:
    """Python reads these, and `events --json` would echo them as typed (the red team's L3)."""
    from incident_tui.domain.schema import validate_event

    e = new_event("inc", "note", "alice", {"text": "x"}).to_dict()
    with pytest.raises(EventError, match="RFC 3339"):
        validate_event({**e, "at": at})
    validate_event({**e, "at": "2026-12-08T00:05:00.123+01:00"})  # an offset is still fine
