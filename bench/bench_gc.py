"""What the collector policy (incident_tui/gcpolicy.py) buys, beside the same work without it.

    python bench/bench_gc.py [--events 100000] [--repeat 3]

Each figure runs in a fresh child process (the policy is process-wide), alternating
with and without, and prints medians and their ratio:

- open: a JSON store of N events opened and folded, as `run_app` and `serve` do it
  (`gcpolicy.paused()` around the parse), against the same with the collector running;
- full collection: one `gc.collect()` with that log held, after `gcpolicy.freeze()`
  (run_app) or a `LogFreezer` (serve), against the same log unfrozen: the stall a
  keystroke or an acknowledgement waits out when a full collection happens.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import gc, json, sys, time
from incident_tui import gcpolicy
from incident_tui.domain.fold import fold
from incident_tui.store.jsonfile import JsonStore
path, policy = sys.argv[1], sys.argv[2] == "on"
t = time.perf_counter()
if policy:
    with gcpolicy.paused():
        store = JsonStore(path)
        registry = fold(store.read())
else:
    store = JsonStore(path)
    registry = fold(store.read())
opened = time.perf_counter() - t
if policy:
    gcpolicy.freeze_held()
t = time.perf_counter()
gc.collect()
full = time.perf_counter() - t
print(json.dumps({"open": opened, "full": full}))
"""


def write_store(path: Path, events: int) -> None:
    from incident_tui.domain.commands import declare_event
    from incident_tui.domain.events import new_event
    from incident_tui.store.jsonfile import JsonStore

    with JsonStore(path) as store:
        declared = declare_event("Bench incident", "alice", "SEV2")
        store.append([declared])
        for i in range(0, events - 1, 2000):
            batch = range(i, min(i + 2000, events - 1))
            store.append(
                [new_event(declared.incident, "note", f"user{j % 7}", {"text": f"line {j} #tag{j % 5}"}) for j in batch]
            )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "store.jsonl"
        t = time.perf_counter()
        write_store(path, a.events)
        print(f"store: {a.events} events, written in {time.perf_counter() - t:.1f} s")
        runs: dict[str, list[dict[str, float]]] = {"on": [], "off": []}
        for _ in range(a.repeat):
            for policy in ("off", "on"):
                out = subprocess.run(
                    [sys.executable, "-c", CHILD, str(path), policy], capture_output=True, text=True, check=True
                )
                runs[policy].append(json.loads(out.stdout))
    med = {p: {k: statistics.median(r[k] for r in rs) * 1000 for k in ("open", "full")} for p, rs in runs.items()}
    print(f"median of {a.repeat} runs each, ms        collector running   policy   policy/running")
    for key, label in (("open", "open + fold the store"), ("full", "one full collection after")):
        off, on = med["off"][key], med["on"][key]
        print(f"  {label:<32} {off:>12.1f} {on:>10.1f}   {on / off:>6.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
