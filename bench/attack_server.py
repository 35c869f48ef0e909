"""Attack a real `incident-tui serve` as a hostile page, a hostile client and bad luck would.

    python bench/attack_server.py [--silent 1100] [--slow 50] [--streams 20] [--megabytes 40]

Prints, beside a baseline measured in the same run: the status of forged cross-site
requests, of huge/deep/malformed bodies and parameters, of one poison event in a burst of
200 POSTs; what 1,100 silent sockets and a slowloris do to the server (refused at once,
descriptors held, health latency during the flood, time until the header timeout frees
them); what non-reading streams cost while the log grows by megabytes (server memory,
when they are closed, and that a resume gets every later event). The server runs with
its default limits (10 s head, 1,000 connections, 30 s stall), so this takes about a
minute.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import socket
import sys
import tempfile
import threading
import time
from contextlib import suppress
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import httpx  # noqa: E402
import orjson  # noqa: E402
from _serve import Served, pct  # noqa: E402

from incident_tui.domain.commands import declare_event  # noqa: E402
from incident_tui.domain.events import new_event  # noqa: E402

JSON = {"Content-Type": "application/json"}


def health_ms(c: httpx.Client, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        c.get("/api/v1/health").raise_for_status()
        out.append((time.perf_counter() - t) * 1000)
    return out


def fds(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


def raw(port: int, data: bytes, timeout: float = 30) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        got = b""
        with suppress(OSError):
            while chunk := s.recv(65536):
                got += chunk
    return got


def status(answer: bytes) -> str:
    return answer.split(b" ", 2)[1].decode() if answer.startswith(b"HTTP/") else f"closed ({len(answer)} B)"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--silent", type=int, default=1100)
    ap.add_argument("--slow", type=int, default=50)
    ap.add_argument("--streams", type=int, default=20)
    ap.add_argument("--megabytes", type=int, default=40)
    a = ap.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    tmp = Path(tempfile.mkdtemp(prefix="attack-"))
    served = Served(tmp / "war.jsonl")
    port, pid = served.port, served.proc.pid
    c = httpx.Client(base_url=served.url, timeout=60)
    d = declare_event("attack", "alice")
    c.post("/api/v1/events", json={"events": [d.to_dict()]}).raise_for_status()
    base = health_ms(c, 300)
    rss0 = served.memory_mib()[0]
    print(
        f"baseline: health p50 {pct(base, 50):.2f} ms p99 {pct(base, 99):.2f} ms; "
        f"server RSS {rss0:.1f} MiB, fds {fds(pid)}"
    )

    # -- forged cross-site requests --------------------------------------------------------
    note = orjson.dumps({"events": [new_event(d.incident, "note", "mallory", {"text": "forged"}).to_dict()]})
    seq0 = c.get("/api/v1/health").json()["seq"]
    host = f"127.0.0.1:{port}"
    forged = {
        "text/plain POST, foreign Origin": f"POST /api/v1/events HTTP/1.1\r\nHost: {host}\r\nOrigin: http://evil.example\r\n"
        f"Content-Type: text/plain\r\nContent-Length: {len(note)}\r\nConnection: close\r\n\r\n".encode()
        + note,
        "text/plain POST, no Origin": f"POST /api/v1/events HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/plain\r\n"
        f"Content-Length: {len(note)}\r\nConnection: close\r\n\r\n".encode()
        + note,
        "JSON POST, Origin: null": f"POST /api/v1/events HTTP/1.1\r\nHost: {host}\r\nOrigin: null\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(note)}\r\nConnection: close\r\n\r\n".encode()
        + note,
        "GET incidents, rebound Host": f"GET /api/v1/incidents HTTP/1.1\r\nHost: evil.example:{port}\r\n"
        "Connection: close\r\n\r\n".encode(),
        "CORS preflight": f"OPTIONS /api/v1/events HTTP/1.1\r\nHost: {host}\r\nOrigin: http://evil.example\r\n"
        "Access-Control-Request-Method: POST\r\nConnection: close\r\n\r\n".encode(),
    }
    for name, req in forged.items():
        ans = raw(port, req)
        print(f"forged  {name:34s} -> {status(ans)}{'  CORS HEADER!' if b'access-control' in ans.lower() else ''}")
    print(f"forged  stored by them: {c.get('/api/v1/health').json()['seq'] - seq0} event(s)")

    # -- hostile bodies and parameters -------------------------------------------------------
    ev = new_event(d.incident, "note", "alice", {"text": "x"}).to_dict()
    deep = b'{"events":[' + orjson.dumps(ev)[:-2] + b',"deep":' + b"[" * 100_000 + b"]" * 100_000 + b"}}]}"
    nested300 = json.dumps({"events": [{**ev, "data": {"text": "x", "n": json.loads("[" * 300 + "]" * 300)}}]})
    bodies = {
        "5 MiB body": orjson.dumps({"events": [{**ev, "data": {"text": "x" * 5_000_000}}]}),
        "100k-deep JSON": deep,
        "300-deep data": nested300.encode(),
        "900 KB title": orjson.dumps(
            {
                "events": [
                    {
                        **ev,
                        "id": new_event(d.incident, "note", "a", {}).id,
                        "kind": "title.set",
                        "data": {"value": "t" * 900_000},
                    }
                ]
            }
        ),
        "5,000-digit number": b'{"events":[' + orjson.dumps(ev)[:-2] + b',"n":' + b"9" * 5000 + b"}}]}",
        "not UTF-8": b'{"events":["\xff\xfe"]}',
        "lone surrogate": b'{"events":[' + orjson.dumps(ev)[:-3] + b'\\ud800"}}]}',
    }
    for name, body in bodies.items():
        t = time.perf_counter()
        r = c.post("/api/v1/events", content=body, headers=JSON)
        ms = (time.perf_counter() - t) * 1000
        print(f"body    {name:34s} -> {r.status_code} in {ms:.0f} ms: {r.json()['error'][:70]}")
    for name, (path, headers) in {
        "5,000-digit Last-Event-ID": ("/api/v1/stream", {"Last-Event-ID": "9" * 5000}),
        "5,000-digit since": ("/api/v1/events?since=" + "9" * 5000, {}),
    }.items():
        r = c.get(path, headers=headers)
        print(f"param   {name:34s} -> {r.status_code}: {r.json()['error'][:70]}")

    # -- one poison in a burst of 200 -------------------------------------------------------
    async def burst() -> list[int]:
        goods = [
            orjson.dumps({"events": [new_event(d.incident, "note", "alice", {"text": f"g{i}"}).to_dict()]})
            for i in range(199)
        ]
        goods.insert(100, nested300.encode())
        async with httpx.AsyncClient(base_url=served.url, timeout=60, limits=httpx.Limits(max_connections=200)) as ac:
            rs = await asyncio.gather(*(ac.post("/api/v1/events", content=b, headers=JSON) for b in goods))
        return [r.status_code for r in rs]

    codes = asyncio.run(burst())
    print(
        f"burst   200 POSTs, one poison: poison -> {codes[100]}, "
        f"others: {sorted(set(codes[:100] + codes[101:]))} x{len(codes) - 1}"
    )

    # -- silent flood and slowloris -------------------------------------------------------------
    t0 = time.monotonic()
    silent = []
    for _ in range(a.silent):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        silent.append(s)
    time.sleep(0.5)
    refused_now = 0
    for s in silent:
        s.setblocking(False)
        with suppress(BlockingIOError):
            if s.recv(4096).startswith(b"HTTP/1.1 503"):
                refused_now += 1
        s.setblocking(True)
    during = health_ms(c, 50) if refused_now < a.silent else []
    print(
        f"flood   {a.silent} silent sockets: {refused_now} answered 503 at once; server fds {fds(pid)}; "
        f"health during p50 {pct(during, 50):.2f} ms p99 {pct(during, 99):.2f} ms (baseline p50 {pct(base, 50):.2f})"
    )
    stop = threading.Event()
    slow = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(a.slow)]
    head = f"GET /api/v1/health HTTP/1.1\r\nHost: {host}\r\nX-Pad: {'a' * 2000}\r\n\r\n".encode()

    def drip() -> None:
        for b in head:
            for s in slow:
                with suppress(OSError):
                    s.send(bytes([b]))
            if stop.wait(0.1):
                return

    threading.Thread(target=drip, daemon=True).start()
    closed_at: list[float] = []
    for s in silent + slow:
        s.settimeout(60)
        with suppress(OSError):
            while s.recv(65536):
                pass
        closed_at.append(time.monotonic() - t0)
        s.close()
    stop.set()
    print(
        f"flood   all {len(silent) + len(slow)} (incl. {a.slow} slowloris at 10 B/s) closed by "
        f"{max(closed_at):.1f} s; server fds after {fds(pid)}; health {c.get('/api/v1/health').status_code}"
    )

    # -- non-reading streams while the log grows -------------------------------------------------
    streams = []
    for _ in range(a.streams):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", port))
        s.sendall(f"GET /api/v1/stream HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        streams.append(s)
    text = "x" * 60_000
    posted = 0
    t1 = time.monotonic()
    while posted * 60_000 < a.megabytes * 1_000_000:
        batch = [new_event(d.incident, "note", "alice", {"text": text}).to_dict() for _ in range(15)]
        c.post("/api/v1/events", json={"events": batch}).raise_for_status()
        posted += 15
    grow_s = time.monotonic() - t1
    rss_mid = served.memory_mib()[0]
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and sum("closed a response" in line for line in served.log) < a.streams:
        time.sleep(0.5)
    closed = sum("closed a response" in line for line in served.log)
    peak = served.memory_mib()[1]
    print(
        f"streams {a.streams} non-reading (4 KiB window), log grown {posted * 60 / 1000:.0f} MB in {grow_s:.1f} s: "
        f"RSS {rss_mid:.0f} MiB while stalled, peak {peak:.0f} MiB (baseline {rss0:.0f}; the log itself is held in "
        f"memory); closed by the server: {closed} within {time.monotonic() - t1:.0f} s"
    )
    last = 0
    for s in streams:
        s.settimeout(10)
        got = b""
        with suppress(OSError):
            while chunk := s.recv(1 << 20):
                got += chunk
        ids = [int(x[4:]) for x in got.split(b"\n") if x.startswith(b"id: ")]
        last = max(last, ids[-1] if ids else 0)
        s.close()
    latest = c.get("/api/v1/health").json()["seq"]
    resumed = 0
    with c.stream("GET", "/api/v1/stream", headers={"Last-Event-ID": str(last)}) as resp:
        for line in resp.iter_lines():
            if line.startswith("id: "):
                resumed = int(line[4:])
                if resumed >= latest:
                    break
    print(f"streams a stalled reader had seq {last} of {latest}; resuming from it reached {resumed}")
    print(f"after   health p50 {pct(health_ms(c, 300), 50):.2f} ms (baseline {pct(base, 50):.2f}); fds {fds(pid)}")
    c.close()
    served.stop()


if __name__ == "__main__":
    main()
