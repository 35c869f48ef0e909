"""Append latency of the shared JSON store, beside a plain O_APPEND + fsync write.

usage: python bench/bench_store.py [--samples 400] [--sizes 1000,10000,50000] [--dir DIR]

For each store size, one event is appended `samples` times into a store that already
holds that many events; each sample is paired with a plain `os.write` + `os.fsync`
of the same serialized line to a file in the same directory, taken right after it,
so both see the same disk and noise. Prints p50/p99 of each and their ratios.
Targets (issue 2): p50 at 50k <= 2x the plain append; p50 at 50k <= 2x p50 at 1k.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from incident_tui import gcpolicy
from incident_tui.domain.commands import declare_event
from incident_tui.domain.events import new_event
from incident_tui.store.jsonfile import JsonStore, _dumps


def quantile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def fill(store: JsonStore, incident: str, n: int) -> None:
    batch = 2000
    while store.latest_seq() < n:
        k = min(batch, n - store.latest_seq())
        store.append([new_event(incident, "note", "bench", {"text": f"filler {i} " + "x" * 80}) for i in range(k)])


def measure(folder: Path, size: int, samples: int) -> tuple[list[float], list[float], float]:
    path = folder / f"store-{size}.jsonl"
    store = JsonStore(path)
    declared = declare_event("bench", "bench")
    store.append([declared])
    fill(store, declared.incident, size)
    t = time.perf_counter()
    with gcpolicy.paused():  # as the entry points open a store (run_app, serve): see bench_gc.py
        reopened = JsonStore(path)
    open_s = time.perf_counter() - t
    plain_fd = os.open(folder / f"plain-{size}.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    ours, plain = [], []
    for i in range(samples):
        event = new_event(declared.incident, "note", "bench", {"text": f"sample {i} p99 at 4s #db"})
        t0 = time.perf_counter()
        reopened.append([event])
        t1 = time.perf_counter()
        line = _dumps({**event.to_dict(), "seq": size + i + 2}) + b"\n"
        t2 = time.perf_counter()
        os.write(plain_fd, line)
        os.fsync(plain_fd)
        t3 = time.perf_counter()
        ours.append((t1 - t0) * 1000)
        plain.append((t3 - t2) * 1000)
    os.close(plain_fd)
    reopened.close()
    store.close()
    return ours, plain, open_s


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=400)
    ap.add_argument("--sizes", default="1000,10000,50000")
    ap.add_argument("--dir", default=None, help="where the stores go (default: a temp dir on the same disk as /tmp)")
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    with tempfile.TemporaryDirectory(dir=a.dir) as d:
        folder = Path(d)
        print(f"append latency, {a.samples} samples per size, in {folder}")
        head = ("events", "p50 ms", "p99 ms", "plain p50", "plain p99", "p50/plain", "open s")
        print(" ".join(f"{h:>{w}}" for h, w in zip(head, (7, 8, 8, 10, 10, 10, 7), strict=True)))
        p50s: dict[int, float] = {}
        plain50s: dict[int, float] = {}
        for size in sizes:
            ours, plain, open_s = measure(folder, size, a.samples)
            p50s[size], plain50s[size] = statistics.median(ours), statistics.median(plain)
            print(
                f"{size:>7} {p50s[size]:>8.3f} {quantile(ours, 0.99):>8.3f} {plain50s[size]:>10.3f} "
                f"{quantile(plain, 0.99):>10.3f} {p50s[size] / plain50s[size]:>10.2f} {open_s:>7.3f}"
            )
        big, small = max(sizes), min(sizes)
        r1 = p50s[big] / plain50s[big]
        r2 = p50s[big] / p50s[small]
        print(f"target p50@{big} <= 2x plain append: {r1:.2f}x {'MET' if r1 <= 2 else 'MISSED'}")
        print(f"target p50@{big} <= 2x p50@{small}: {r2:.2f}x {'MET' if r2 <= 2 else 'MISSED'}")


if __name__ == "__main__":
    main()
