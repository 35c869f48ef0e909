"""Propagation on loopback: an append acknowledged at client A until client B's store holds it.

    python bench/bench_sync.py [--events 1000] [--transport sse,poll]

A real `incident-tui serve` over a JSON store file in a child process; A posts one event
at a time (a RemoteStore's POST, timed from send to acknowledgement); B is a live
RemoteStore (SSE, or long poll) in this process, and `B.wait` returning is delivery.
Figures per transport: ack latency, ack -> delivered at B (the target: p95 < 20 ms),
and send -> delivered (what a person sees between typing and the other screen).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _serve import Served, pct  # noqa: E402

from incident_tui.domain.commands import declare_event  # noqa: E402
from incident_tui.domain.events import new_event  # noqa: E402
from incident_tui.store.remote import RemoteStore  # noqa: E402

TARGET_P95_MS = 20.0


def run(transport: str, events: int, tmp: Path) -> dict[str, list[float]]:
    served = Served(tmp / f"{transport}.jsonl")
    a = RemoteStore(served.url, user="alice", data_dir=tmp / f"a-{transport}")
    b = RemoteStore(served.url, user="bob", data_dir=tmp / f"b-{transport}", transport=transport)  # type: ignore[arg-type]
    try:
        d = declare_event("bench", "alice")
        a.append([d])
        b.start()
        assert b.wait(0, 10)
        ack, prop, total = [], [], []
        for i in range(events + 20):
            e = new_event(d.incident, "note", "alice", {"text": f"note {i}"})
            t0 = time.perf_counter()
            seq = a._api.post_events([e])[0].seq  # the POST alone: outbox and read-your-writes are not the wire
            t1 = time.perf_counter()
            assert seq is not None
            if not b.wait(seq - 1, 5):
                raise SystemExit(f"{transport}: event {seq} not delivered in 5 s")
            t2 = time.perf_counter()
            if i >= 20:  # warm-up: connections, caches, the JIT-less first paths
                ack.append((t1 - t0) * 1000)
                prop.append(max(t2 - t1, 0) * 1000)
                total.append((t2 - t0) * 1000)
        return {"ack": ack, "ack -> delivered": prop, "send -> delivered": total}
    finally:
        a.close()
        b.close()
        served.stop()


def baseline_file(events: int, tmp: Path) -> dict[str, list[float]]:
    """The one-host path for comparison: a reader thread on a second JsonStore handle of the
    same file, already waiting (it polls the file's size every 10 ms) when A appends."""
    import threading

    from incident_tui.store.jsonfile import JsonStore

    path = tmp / "baseline.jsonl"
    a, b = JsonStore(path), JsonStore(path)
    arrived: dict[int, float] = {}
    done = threading.Event()

    def reader(seen: int) -> None:
        while not done.is_set():
            if b.wait(seen, 0.2):
                now = time.perf_counter()
                events = b.read(seen)
                for e in events:
                    arrived[e.seq or 0] = now
                if events:  # not latest_seq(): it could catch up past events not yet recorded
                    seen = events[-1].seq or seen

    d = declare_event("bench", "alice")
    a.append([d])
    t = threading.Thread(target=reader, args=(b.latest_seq(),), daemon=True)
    try:
        t.start()
        ack, prop = [], []
        for i in range(events):
            e = new_event(d.incident, "note", "alice", {"text": f"note {i}"})
            t0 = time.perf_counter()
            seq = a.append([e])[0].seq or 0
            t1 = time.perf_counter()
            deadline = t1 + 5
            while seq not in arrived and time.perf_counter() < deadline:
                time.sleep(0.0002)
            ack.append((t1 - t0) * 1000)
            prop.append(max(arrived[seq] - t1, 0) * 1000)
        return {"ack": ack, "ack -> delivered": prop}
    finally:
        done.set()
        t.join(1)
        a.close()
        b.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1000)
    ap.add_argument("--transport", default="sse,poll")
    args = ap.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for transport in args.transport.split(","):
            figures = run(transport, args.events, Path(tmp))
            print(f"{transport:>4} over {args.events} events (ms):")
            for name, values in figures.items():
                print(f"     {name:<18} p50 {pct(values, 50):6.2f}  p95 {pct(values, 95):6.2f}  max {max(values):6.2f}")
            p95 = pct(figures["ack -> delivered"], 95)
            verdict = "ok" if p95 < TARGET_P95_MS else "OVER TARGET"
            print(f"     target ack -> delivered p95 < {TARGET_P95_MS:g} ms: {p95:.2f} ms {verdict}")
            ok = ok and p95 < TARGET_P95_MS
        base = baseline_file(min(args.events, 300), Path(tmp))
        print("baseline, the shared JSON file on one host (two JsonStore handles, ms):")
        for name, values in base.items():
            print(f"     {name:<18} p50 {pct(values, 50):6.2f}  p95 {pct(values, 95):6.2f}  max {max(values):6.2f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
