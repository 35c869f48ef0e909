"""What the one schema costs: the fold's check of every event it folds, and the door's
full validation, beside a fold without the check and a store open, in the same run.

    .venv/bin/python bench/bench_schema.py [--events 100000] [--repeat 5]

The fold checks each event (`schema.check_foldable`) so that an event an older or broken
writer left can never stop a reader; the baseline is the same fold with that check
replaced by the bare time parse it also does (what the fold cost before the schema).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from incident_tui.domain import fold as fold_module
from incident_tui.domain.events import parse_at
from incident_tui.domain.fold import fold
from incident_tui.domain.schema import validate_event
from incident_tui.store.jsonfile import JsonStore

sys.path.insert(0, str(Path(__file__).parent))
from _fixtures import write_store


def timed(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--events", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=5)
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.jsonl"
        write_store(path, 20, a.events)
        open_ms = timed(lambda: JsonStore(path).close(), a.repeat)
        events = JsonStore(path).read()
    checked_ms = timed(lambda: fold(events), a.repeat)
    real = fold_module.check_foldable
    fold_module.check_foldable = lambda e: parse_at(e.at)  # type: ignore[assignment]
    try:
        bare_ms = timed(lambda: fold(events), a.repeat)
    finally:
        fold_module.check_foldable = real
    dicts = [{k: v for k, v in e.to_dict().items() if k != "seq"} for e in events]
    door_ms = timed(lambda: [validate_event(d) for d in dicts], a.repeat)
    n = len(events)
    print(f"{n:,} events in 20 incidents, median of {a.repeat} runs, Python {sys.version.split()[0]}")
    print(f"{'':44} {'ms':>8} {'us/event':>9} {'x bare':>7}")
    for name, ms in (
        ("baseline: fold without the check", bare_ms),
        ("fold with check_foldable (every reader)", checked_ms),
        ("validate_event of each (every door)", door_ms),
        ("baseline: open the store file (parse)", open_ms),
    ):
        print(f"{name:44} {ms:8.1f} {ms * 1000 / n:9.2f} {ms / bare_ms:7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
