"""Snapshot and postmortem of a 100k-event incident (target: under 500 ms each; 5 s at 1M).

    python bench/bench_docs.py [--events 100000] [--repeat 5]
    python bench/bench_docs.py --events 1000000 --repeat 1

Prints the median wall and CPU time of each figure beside baselines measured in the
same run on the same events (folding them, and json.dumps of them), so the numbers
mean something on any machine. On a machine shared with other work the wall time
includes waiting for a core, so the verdict is on CPU time. Exits 1 if a document
misses the target.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from incident_tui.docs import fold_incident, postmortem_document, postmortem_json, snapshot_document
from incident_tui.domain.checklists import load_runbooks
from incident_tui.domain.events import Event, format_at
from incident_tui.domain.fold import fold

TARGET_MS = 500.0  # at 100k events and below; 5 s at 1M (linear above 100k)
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
        elif i % 613 == 0:  # the second pass's kinds (SPEC 9)
            add(("mitigation", "dataloss", "background")[i % 3], {"text": f"entry {i}: restored shard {i % 17}"}, who)
        elif i % 617 == 0:
            add("lesson", {"text": f"lesson {i}", "lesson": ("well", "wrong", "lucky")[i % 3]}, who)
        elif i % 619 == 0:
            add("why", {"text": f"why {i}", "chain": ("impact", "recovery")[i % 2]}, who)
        else:
            k = kinds[i % len(kinds)]
            add(k, {"text": f"{k} {i}: error rate on checkout-api at {i % 100}% in eu-west-{i % 3} #checkout"}, who)
    add("phase.set", {"phase": "monitoring"})
    add("phase.set", {"phase": "resolved"})
    add("rootcause", {"text": "v2.41 did not return DB connections on the retry path"})
    return out


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    """Median wall and CPU time (ms) of `repeat` runs, and the result."""
    wall, cpu, result = [], [], None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return statistics.median(wall), statistics.median(cpu), result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--events", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=5)
    a = p.parse_args()
    target = TARGET_MS * max(1.0, a.events / 100_000)
    runbooks = load_runbooks()
    events = make_events(a.events)
    now = events[-1].when + timedelta(minutes=5)

    fold_ms, fold_cpu, reg = timed(lambda: fold(events), a.repeat)
    state = reg.incidents[INCIDENT]  # type: ignore[attr-defined]
    half = len(events) // 2
    runs: list[tuple[str, Callable[[], object], float | None]] = [
        ("baseline: json.dumps of the events", lambda: json.dumps([e.to_dict() for e in events]), None),
        ("snapshot md (fold included)", lambda: snapshot_document(events, INCIDENT, runbooks, now, "md"), target),
        ("snapshot json (fold included)", lambda: snapshot_document(events, INCIDENT, runbooks, now, "json"), target),
        ("snapshot md --at-seq n/2", lambda: snapshot_document(events, INCIDENT, runbooks, now, "md", half), target),
        ("postmortem of a folded state", lambda: postmortem_document(state, runbooks, now), target),
        (
            "postmortem, fold included",
            lambda: postmortem_document(fold_incident(events, INCIDENT), runbooks, now),
            target,
        ),
        ("postmortem json (no target)", lambda: postmortem_json(state, runbooks, now), None),
    ]
    print(f"{len(events):,} events in one incident, median of {a.repeat} runs, Python {sys.version.split()[0]}")
    print(f"{'':38} {'wall ms':>8} {'cpu ms':>8} {'x fold':>7}  verdict (on CPU time)")
    print(f"{'baseline: fold all events':38} {fold_ms:8.1f} {fold_cpu:8.1f} {1:7.2f}")
    ok = True
    for name, fn, limit in runs:
        wall, cpu, result = timed(fn, a.repeat)
        verdict = ""
        if limit is not None:
            ok &= cpu < limit
            verdict = f"{'ok' if cpu < limit else 'OVER'} (< {limit:.0f} ms)"
        size = f"{len(result):,} chars" if isinstance(result, str) else ""
        print(f"{name:38} {wall:8.1f} {cpu:8.1f} {cpu / fold_cpu:7.2f}  {verdict} {size}".rstrip())
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
