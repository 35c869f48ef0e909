"""Snapshot and postmortem of a 100k-event incident (target: under 500 ms each).

    python bench/bench_docs.py [--events 100000] [--repeat 5]

Prints the median of each figure beside baselines measured in the same run on the
same events (folding them, and json.dumps of them), so the numbers mean something on
any machine. Exits 1 if a document misses the target.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from incident_tui.docs import fold_incident, postmortem_document, snapshot_document
from incident_tui.domain.checklists import load_runbooks
from incident_tui.domain.events import Event, format_at
from incident_tui.domain.fold import fold

TARGET_MS = 500.0
INCIDENT = "0193f1c2-0000-7000-8000-00000000beef"


def make_events(n: int) -> list[Event]:
    """A long incident that exercises every document section: mostly timeline text, with
    role changes, severity and phase changes, hypotheses, follow-ups and checklist ticks."""
    t0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    out: list[Event] = []

    def add(kind: str, data: dict, author: str = "alice") -> None:
        seq = len(out) + 1
        at = format_at(t0 + timedelta(seconds=seq))
        out.append(Event(f"{INCIDENT[:-8]}{seq:08d}", INCIDENT, at, author, kind, data, seq))

    add("incident.declared", {"title": "Checkout failing for EU customers", "severity": "SEV2"})
    add("role.assigned", {"role": "commander", "user": "alice"})
    people = ["bob", "carol", "dave", "erin", "frank"]
    kinds = ["note", "obs", "note", "action", "decision", "note", "obs", "update", "note", "action"]
    phases = ["triage", "mitigating", "monitoring", "mitigating"]
    i = 0
    while len(out) < n - 3:
        i += 1
        who = people[i % len(people)]
        if i % 997 == 0:
            add("severity.set", {"severity": ("SEV1", "SEV2")[i // 997 % 2]})
        elif i % 1499 == 0:
            add("phase.set", {"phase": phases[i // 1499 % len(phases)]})
        elif i % 211 == 0:
            add("hypothesis", {"text": f"Hypothesis {i}: pool exhaustion on shard {i % 17} #db"}, who)
        elif i % 307 == 0:
            add("hypothesis.rejected", {"number": 1 + (i // 307) % 5, "text": "metrics disagree"}, who)
        elif i % 401 == 0:
            add("followup", {"text": f"Follow-up {i}: alert on pool saturation", "owner": who, "due": "2026-12-11"})
        elif i % 89 == 0:
            add("role.assigned", {"role": "sme", "user": f"sme{i % 40}"})
        elif i % 53 == 0:
            add("checklist.set", {"phase": "mitigating", "item": "record-actions", "done": i % 2 == 0})
        else:
            k = kinds[i % len(kinds)]
            add(k, {"text": f"{k} {i}: error rate on checkout-api at {i % 100}% in eu-west-{i % 3} #checkout"}, who)
    add("phase.set", {"phase": "monitoring"})
    add("phase.set", {"phase": "resolved"})
    add("rootcause", {"text": "v2.41 did not return DB connections on the retry path"})
    return out


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--events", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=5)
    a = p.parse_args()
    runbooks = load_runbooks()
    events = make_events(a.events)
    now = events[-1].when + timedelta(minutes=5)

    fold_ms, reg = timed(lambda: fold(events), a.repeat)
    state = reg.incidents[INCIDENT]  # type: ignore[attr-defined]
    dumps_ms, _ = timed(lambda: json.dumps([e.to_dict() for e in events]), a.repeat)
    snap_md_ms, snap_md = timed(lambda: snapshot_document(events, INCIDENT, runbooks, now, "md", None), a.repeat)
    snap_js_ms, snap_js = timed(lambda: snapshot_document(events, INCIDENT, runbooks, now, "json", None), a.repeat)
    asof_ms, _ = timed(lambda: snapshot_document(events, INCIDENT, runbooks, now, "md", len(events) // 2), a.repeat)
    pm_ms, pm = timed(lambda: postmortem_document(state, runbooks, now), a.repeat)
    pm_fold_ms, _ = timed(lambda: postmortem_document(fold_incident(events, INCIDENT), runbooks, now), a.repeat)

    rows = [
        ("baseline: fold all events", fold_ms, None, ""),
        ("baseline: json.dumps of the events", dumps_ms, None, ""),
        ("snapshot md (fold included)", snap_md_ms, TARGET_MS, f"{len(snap_md):,} chars"),  # type: ignore[arg-type]
        ("snapshot json (fold included)", snap_js_ms, TARGET_MS, f"{len(snap_js):,} chars"),  # type: ignore[arg-type]
        ("snapshot md --at-seq n/2", asof_ms, TARGET_MS, ""),
        ("postmortem of a folded state", pm_ms, TARGET_MS, f"{len(pm):,} chars"),  # type: ignore[arg-type]
        ("postmortem, fold included", pm_fold_ms, TARGET_MS, ""),
    ]
    print(f"{len(events):,} events in one incident, median of {a.repeat} runs, Python {sys.version.split()[0]}")
    print(f"{'':38} {'ms':>8} {'x fold':>7}  verdict")
    ok = True
    for name, ms, target, note in rows:
        verdict = ""
        if target is not None:
            ok &= ms < target
            verdict = f"{'ok' if ms < target else 'OVER'} (< {target:.0f} ms)"
        print(f"{name:38} {ms:8.1f} {ms / fold_ms:7.2f}  {verdict} {note}".rstrip())
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
