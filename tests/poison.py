"""Poison: every shape of event an attack on the store got through, and a store file
holding them between good events, written as an older or broken writer would (no schema)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from incident_tui.domain.commands import declare_event
from incident_tui.domain.events import new_event
from incident_tui.domain.schema import TEXT_MAX_BYTES
from incident_tui.store.jsonfile import JsonStore


def deep(n: int) -> Any:
    v: Any = "x"
    for _ in range(n):
        v = {"a": v}
    return v


def base(kind: str = "note", data: dict | None = None, **over: Any) -> dict:
    d = new_event("0193f1c2-0000-7000-8000-000000000001", kind, "alice", data or {"text": "x"}).to_dict()
    d.update(over)
    return d


# Every shape the attack on main got through, and its neighbours.
POISON: dict[str, dict] = {
    "followup owner an object": base("followup", {"text": "x", "owner": {"name": "bob"}}),
    "note tags a number": base("note", {"text": "x", "tags": 7}),
    "tags holding a number": base("note", {"text": "x", "tags": ["db", 7]}),
    "role a list": base("role.assigned", {"role": ["commander"], "user": "bob"}),
    "user an object": base("role.assigned", {"role": "commander", "user": {"x": 1}}),
    "at in year 9999 with an offset": base(at="9999-12-31T23:59:59-05:00"),
    "at in year 1 with an offset": base(at="0001-01-01T00:00:00+01:00"),
    "at in year 1970": base(at="1970-01-01T00:00:00Z"),
    "at without a zone": base(at="2026-11-27T14:02:11"),
    "at 5000 characters": base(at="2026-11-27T14:02:11" + "0" * 5000),
    "data nested 300 deep": base("note", {"text": "x", "more": deep(300)}),
    "text nested": base("note", {"text": deep(3)}),
    "a 900 KB title": base("incident.declared", {"title": "t" * 900_000, "severity": "SEV2"}),
    "text 64 KiB + 1 in bytes, fewer characters": base("note", {"text": "€" * (TEXT_MAX_BYTES // 3 + 1)}),
    "a lone surrogate": base("note", {"text": "bad \ud800 text"}),
    "unknown data field": base("note", {"text": "x", "colour": "red"}),
    "unknown envelope field": base(extra=1),
    "number a bool": base("followup.done", {"number": True}),
    "number a float": base("followup.done", {"number": 1.0}),
    "number huge": base("followup.done", {"number": 10**30}),
    "done a number": base("checklist.set", {"phase": "triage", "item": "x", "done": 1}),
    "unknown severity": base("severity.set", {"severity": "SEV0"}),
    "unknown phase": base("phase.set", {"phase": "panic"}),
    "due not a date": base("followup", {"text": "x", "due": "[@click=app.bell]"}),
    "author with an escape": base(author="mallory\x1b[2J"),
    "user with a bidi override": base("role.assigned", {"role": "sme", "user": "\u202eevil"}),
    "role empty": base("role.assigned", {"role": " ", "user": "bob"}),
    "id with a slash": base(id="../../etc/passwd"),
    "author 1 KB": base(author="a" * 1024),
    "data a list": base(data=[1, 2]),
    "kind a number": base(kind=7),
    "unknown kind": base(kind="telepathy"),
    "too many tags": base("note", {"text": "x", "tags": [f"t{i}" for i in range(101)]}),
}


def raw_lines(path: Path, docs: list[dict]) -> None:
    """Append lines as an older or broken writer did (no schema), seq first, in order."""
    seq = JsonStore(path).latest_seq()
    with open(path, "ab") as f:
        for d in docs:
            seq += 1
            f.write(json.dumps({"seq": seq, **{k: v for k, v in d.items() if k != "seq"}}).encode() + b"\n")


def poisoned_store(path: Path) -> tuple[str, list[int]]:
    """A store holding an incident, every poison shape, and good events after them."""
    store = JsonStore(path)
    declared = declare_event("checkout down", "alice", "SEV2")
    inc = declared.incident
    store.append([declared, new_event(inc, "note", "alice", {"text": "before"})])
    store.close()
    # (A lone surrogate is left out: no JSON reader of this version can parse that line.)
    bad = [{**d, "incident": inc} for name, d in POISON.items() if name != "a lone surrogate"]
    bad.append({"id": "dup", "incident": inc, "at": "2026-11-27T14:02:11.482Z"})  # no kind, no data
    first = JsonStore(path).latest_seq() + 1
    raw_lines(path, bad)
    store = JsonStore(path)
    good = store.append(
        [
            new_event(inc, "followup", "bob", {"text": "after", "owner": "carol"}),
            new_event(inc, "severity.set", "bob", {"severity": "SEV1"}),
        ]
    )
    # A store with a duplicated event id (a broken writer's copy) folds it once.
    raw_lines(path, [good[0].to_dict()])
    store.close()
    return inc, list(range(first, first + len(bad)))
