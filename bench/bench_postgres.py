"""PostgreSQL behind several replicas, beside the file store in the same run (SPEC 12).

    python bench/bench_postgres.py [--appends 400] [--samples 200] [--clients 50] [--rate 10] [--seconds 20]

Starts its own PostgreSQL (as the tests do: tests/pg/cluster.py; fsync on, as in use),
then real `incident-tui serve` children: one over a JSON store file (the baseline), and
two replicas over one database. Printed:
- append latency p50/p99 (one client, one event per POST, sequential) and throughput
  (8 concurrent clients) through the file server, one replica, and two replicas;
- propagation: a write on replica A until a long poll and an SSE stream on replica B
  have it, p50/p95 (target p95 <= 25 ms);
- load: --clients clients x --rate events/s spread over both replicas, ack p99 (target
  <= 100 ms) and lost events (target 0: every acknowledged id stored exactly once).
Targets: append p50 <= 3x the file store.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

import httpx  # noqa: E402
import orjson  # noqa: E402
from _serve import Served, pct  # noqa: E402
from pg.cluster import Cluster  # noqa: E402

from incident_tui.domain.events import new_event  # noqa: E402


def wire(e: Any) -> dict[str, Any]:
    d = e.to_dict()
    d.pop("seq", None)
    return d


def declare(url: str) -> str:
    e = new_event("", "incident.declared", "bench", {"title": "bench", "severity": "SEV2"})
    e = type(e)(**{**e.to_dict(), "incident": e.id})
    httpx.post(f"{url}/api/v1/events", json={"events": [wire(e)]}, timeout=10).raise_for_status()
    return e.id


def sequential(urls: list[str], incident: str, n: int) -> list[float]:
    out = []
    with httpx.Client(timeout=10) as c:
        for i in range(n):
            body = {"events": [wire(new_event(incident, "note", "bench", {"text": f"n{i}", "tags": []}))]}
            t = time.perf_counter()
            c.post(f"{urls[i % len(urls)]}/api/v1/events", json=body).raise_for_status()
            out.append((time.perf_counter() - t) * 1000)
    return out


def throughput(urls: list[str], incident: str, seconds: float, threads: int = 8) -> float:
    count = [0] * threads
    stop = time.perf_counter() + seconds

    def run(k: int) -> None:
        with httpx.Client(timeout=10) as c:
            while time.perf_counter() < stop:
                body = {"events": [wire(new_event(incident, "note", "bench", {"text": "t", "tags": []}))]}
                c.post(f"{urls[k % len(urls)]}/api/v1/events", json=body).raise_for_status()
                count[k] += 1

    ts = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(count) / seconds


def propagation(a: str, b: str, incident: str, samples: int) -> tuple[list[float], list[float]]:
    polls, streams = [], []
    with httpx.Client(timeout=30) as c:
        for i in range(samples):
            seq = c.get(f"{b}/api/v1/health").json()["seq"]
            got: dict[str, float] = {}
            ready = threading.Barrier(3)

            def poll(seq: int = seq, got: dict[str, float] = got, ready: threading.Barrier = ready) -> None:
                with httpx.Client(timeout=30) as pc:
                    ready.wait()
                    pc.get(f"{b}/api/v1/events", params={"since": seq, "wait": 20})
                    got["poll"] = time.perf_counter()

            def stream(seq: int = seq, got: dict[str, float] = got, ready: threading.Barrier = ready) -> None:
                with httpx.Client(timeout=30) as sc, sc.stream("GET", f"{b}/api/v1/stream", params={"since": seq}) as r:
                    ready.wait()
                    for line in r.iter_lines():
                        if line.startswith("data: "):
                            got["stream"] = time.perf_counter()
                            return

            ts = [threading.Thread(target=poll), threading.Thread(target=stream)]
            for t in ts:
                t.start()
            ready.wait()
            time.sleep(0.02)  # let both requests reach the replica (a bench pacing, not a sync)
            body = {"events": [wire(new_event(incident, "note", "bench", {"text": f"p{i}", "tags": []}))]}
            t0 = time.perf_counter()
            c.post(f"{a}/api/v1/events", json=body).raise_for_status()
            for t in ts:
                t.join(30)
            polls.append((got["poll"] - t0) * 1000)
            streams.append((got["stream"] - t0) * 1000)
    return polls, streams


def load_worker(
    urls: list[str], incident: str, clients: int, rate: float, seconds: float, start_at: float, q: Any
) -> None:
    # The clients stand in for fifty other machines (as in bench_load): on a shared box they
    # must not take the servers' CPU, or the ack latency measures the clients' starvation.
    os.nice(10)

    async def client(k: int) -> tuple[list[float], list[str]]:
        lat, ids = [], []
        url = urls[k % len(urls)]
        async with httpx.AsyncClient(timeout=10) as c:
            await asyncio.sleep(max(0.0, start_at - time.time()) + (k / clients) / rate)
            t_next = time.perf_counter()
            end = t_next + seconds
            while t_next < end:
                e = new_event(incident, "note", f"c{k}", {"text": "load", "tags": []})
                t = time.perf_counter()
                r = await c.post(
                    f"{url}/api/v1/events",
                    content=orjson.dumps({"events": [wire(e)]}),
                    headers={"content-type": "application/json"},
                )
                if r.status_code == 200:
                    lat.append((time.perf_counter() - t) * 1000)
                    ids.append(e.id)
                t_next += 1 / rate
                await asyncio.sleep(max(0.0, t_next - time.perf_counter()))
        return lat, ids

    async def main() -> None:
        res = await asyncio.gather(*(client(k) for k in range(clients)))
        q.put(([x for r in res for x in r[0]], [x for r in res for x in r[1]]))

    asyncio.run(main())


def load(
    urls: list[str], incident: str, clients: int, rate: float, seconds: float, procs: int = 5
) -> tuple[list[float], list[str]]:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    start_at = time.time() + 3
    per = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    ps = [ctx.Process(target=load_worker, args=(urls, incident, n, rate, seconds, start_at, q)) for n in per if n]
    for p in ps:
        p.start()
    lat: list[float] = []
    ids: list[str] = []
    for _ in ps:
        a, b = q.get(timeout=seconds + 120)
        lat += a
        ids += b
    for p in ps:
        p.join()
    return lat, ids


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--appends", type=int, default=400)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--rate", type=float, default=10)
    ap.add_argument("--seconds", type=float, default=20)
    a = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    cluster = Cluster(fsync=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    servers: list[Served] = []
    try:
        dsn = cluster.create_db()
        file_srv = Served(tmp / "file.jsonl")
        ra = Served(tmp / "unused-a.jsonl", database=dsn)
        rb = Served(tmp / "unused-b.jsonl", database=dsn)
        servers += [file_srv, ra, rb]
        inc_file, inc_pg = declare(file_srv.url), declare(ra.url)
        sequential([file_srv.url], inc_file, 50)  # warm both
        sequential([ra.url, rb.url], inc_pg, 50)
        f = sequential([file_srv.url], inc_file, a.appends)
        one = sequential([ra.url], inc_pg, a.appends)
        two = sequential([ra.url, rb.url], inc_pg, a.appends)
        med_f = statistics.median(f)
        print(f"\nappend, one client, one event per POST ({a.appends} each)")
        print(f"  file store      p50 {med_f:6.2f} ms  p99 {pct(f, 99):6.2f} ms")
        for name, xs in (("1 replica", one), ("2 replicas", two)):
            m = statistics.median(xs)
            print(f"  {name:<15} p50 {m:6.2f} ms  p99 {pct(xs, 99):6.2f} ms  ({m / med_f:.2f}x file; target <= 3x)")
        print("\nthroughput, 8 concurrent clients, 5 s")
        tf = throughput([file_srv.url], inc_file, 5)
        t1 = throughput([ra.url], inc_pg, 5)
        t2 = throughput([ra.url, rb.url], inc_pg, 5)
        print(f"  file store {tf:7.0f} events/s")
        print(f"  1 replica  {t1:7.0f} events/s ({t1 / tf:.2f}x)   2 replicas {t2:7.0f} events/s ({t2 / tf:.2f}x)")
        polls, streams = propagation(ra.url, rb.url, inc_pg, a.samples)
        print(f"\npropagation, write on A -> seen on B ({a.samples} samples; target p95 <= 25 ms)")
        print(f"  long poll  p50 {statistics.median(polls):6.2f} ms  p95 {pct(polls, 95):6.2f} ms")
        print(f"  SSE stream p50 {statistics.median(streams):6.2f} ms  p95 {pct(streams, 95):6.2f} ms")
        base_lat, base_ids = load([file_srv.url], inc_file, a.clients, a.rate, a.seconds)
        lat, ids = load([ra.url, rb.url], inc_pg, a.clients, a.rate, a.seconds)
        from incident_tui.store.postgres import PostgresStore

        with PostgresStore(dsn) as s:
            stored = [e.id for e in s.read()]
        counts: dict[str, int] = {}
        for i in stored:
            counts[i] = counts.get(i, 0) + 1
        lost = sum(1 for i in ids if counts.get(i, 0) != 1)
        print(f"\nload: {a.clients} clients x {a.rate:g} events/s over 2 replicas, {a.seconds:g} s")
        print(f"  acknowledged {len(ids)}  lost or duplicated {lost} (target 0)")
        print(f"  ack p50 {statistics.median(lat):6.2f} ms  p99 {pct(lat, 99):6.2f} ms (target <= 100 ms)")
        print(
            f"  baseline, the same load on the file server: {len(base_ids)} acknowledged, "
            f"ack p50 {statistics.median(base_lat):6.2f} ms  p99 {pct(base_lat, 99):6.2f} ms"
        )
        print(f"  seq gap-free: {sorted(range(1, len(stored) + 1)) == list(range(1, len(stored) + 1))}")
    finally:
        for srv in servers:
            srv.stop()
        cluster.destroy()


if __name__ == "__main__":
    main()
