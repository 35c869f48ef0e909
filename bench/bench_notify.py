"""Notifications out and alerts in (SPEC 11), on loopback, through a real `incident-tui serve`.

    python bench/bench_notify.py [--seconds 15] [--rate 20] [--fingerprints 1000]

1. Delivery latency: events appended (POST /api/v1/events) at RATE a second, each one a
   status update that five `[[notify]]` destinations want; timed from the append's send to
   the receiver's request, per destination (target: p95 <= 200 ms with a healthy receiver).
   Baselines in the same run: the append's own acknowledgement, and one plain HTTP POST
   from here to the same receiver.
2. The same with one of the five hanging (answers after 3 s; the sender times out at 1 s):
   the four healthy ones' p95 beside run 1's (target: a failing destination never delays
   the others).
3. Alert intake: FINGERPRINTS distinct alerts posted as Alertmanager webhooks (one alert a
   request, ten groups, one declaring rule), then the same bodies again (all duplicates);
   alerts a second, beside POST /api/v1/events of as many events one a request.

The machine is shared (2 cores, ~8 concurrent sessions): read ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import httpx  # noqa: E402
import orjson  # noqa: E402
from _serve import Served, pct  # noqa: E402

from incident_tui.domain.events import new_event, uuid7  # noqa: E402

TARGET_P95_MS = 200.0


class Receiver:
    """Records when each event id arrived, per path; `/hang` answers after 3 s."""

    def __init__(self) -> None:
        self.arrived: dict[str, dict[str, float]] = {}
        self.lock = threading.Lock()
        rec = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                t = time.perf_counter()
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                if self.path == "/hang":
                    time.sleep(3.0)
                else:
                    try:
                        eid = orjson.loads(body)["data"]["event"]["id"]
                    except (ValueError, KeyError, TypeError):
                        eid = ""
                    with rec.lock:
                        rec.arrived.setdefault(self.path, {})[eid] = t
                try:
                    self.send_response(200)
                    self.send_header("content-length", "0")
                    self.end_headers()
                except OSError:
                    pass

            def log_message(self, *a: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def config(rec: Receiver, paths: list[str]) -> str:
    out = "[delivery]\ntimeout = 1.0\nbackoff = 0.2\nbackoff_max = 2.0\n\n"
    out += '[[alerts.rule]]\nmatch = { severity = "critical" }\ndeclare = "SEV2"\n\n'
    for p in paths:
        out += f'[[notify]]\nname = "{p.strip("/")}"\nurl = "{rec.url(p)}"\n'
        out += 'format = "webhook"\non = ["update", "declared"]\n\n'
    return out


def serve(tmp: Path, name: str, cfg: str) -> Served:
    (tmp / f"{name}.toml").write_text(cfg)
    return Served(tmp / f"{name}.jsonl", env={"INCIDENT_TUI_CONFIG": str(tmp / f"{name}.toml")})


def delivery(tmp: Path, name: str, paths: list[str], seconds: float, rate: float) -> dict[str, Any]:
    rec = Receiver()
    srv = serve(tmp, name, config(rec, paths))
    client = httpx.Client(timeout=10)
    api = f"{srv.url}/api/v1/events"
    try:
        incident = uuid7()
        client.post(
            api,
            json={
                "events": [
                    new_event(incident, "incident.declared", "b", {"title": "bench", "severity": "SEV2"}).to_dict()
                ]
            },
        )
        sent: dict[str, float] = {}
        acks: list[float] = []
        n = int(seconds * rate)
        start = time.perf_counter()
        for i in range(n):
            due = start + i / rate
            time.sleep(max(0.0, due - time.perf_counter()))
            e = new_event(incident, "update", "b", {"text": f"update {i}"})
            t0 = time.perf_counter()
            client.post(api, json={"events": [e.to_dict()]})
            acks.append(time.perf_counter() - t0)
            sent[e.id] = t0
        healthy = [p for p in paths if p != "/hang"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with rec.lock:
                if all(len(set(sent) & set(rec.arrived.get(p, {}))) == n for p in healthy):
                    break
            time.sleep(0.05)
        lat = []
        with rec.lock:
            for p in healthy:
                got = rec.arrived.get(p, {})
                lat += [(got[i] - t) * 1000 for i, t in sent.items() if i in got]
        missing = n * len(healthy) - len(lat)
        # Baseline: one plain HTTP POST from here to the same receiver.
        plain = []
        body = orjson.dumps({"data": {"event": {"id": "x"}}})
        for _ in range(200):
            t0 = time.perf_counter()
            client.post(rec.url("/baseline"), content=body)
            plain.append((time.perf_counter() - t0) * 1000)
        return {"lat": lat, "missing": missing, "acks": [a * 1000 for a in acks], "plain": plain}
    finally:
        client.close()
        srv.stop()
        rec.server.shutdown()


def am_body(i: int) -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="Bench{i % 10}"}}',
        "status": "firing",
        "receiver": "incident-tui",
        "groupLabels": {"alertname": f"Bench{i % 10}"},
        "commonLabels": {"alertname": f"Bench{i % 10}", "severity": "critical"},
        "commonAnnotations": {"summary": "bench"},
        "externalURL": "http://alertmanager:9093",
        "truncatedAlerts": 0,
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": f"Bench{i % 10}", "severity": "critical", "instance": f"host-{i}"},
                "annotations": {"summary": f"host-{i} is slow"},
                "startsAt": "2026-11-30T05:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus:9090/graph",
                "fingerprint": f"{i:016x}",
            }
        ],
    }


def intake(tmp: Path, fingerprints: int) -> dict[str, float]:
    srv = serve(tmp, "intake", '[[alerts.rule]]\nmatch = { severity = "critical" }\ndeclare = "SEV2"\n')
    client = httpx.Client(timeout=30)
    try:
        bodies = [am_body(i) for i in range(fingerprints)]
        out = {}
        for label in ("new", "repeat"):
            t0 = time.perf_counter()
            recorded = 0
            for b in bodies:
                r = client.post(f"{srv.url}/api/v1/alerts/alertmanager", json=b)
                recorded += r.json()["recorded"]
            out[label] = fingerprints / (time.perf_counter() - t0)
            out[f"{label}_recorded"] = recorded
        # As Alertmanager sends them: one request a group, the group's alerts all in it.
        grouped: dict[str, dict[str, Any]] = {}
        for i, b in enumerate(bodies):
            b = am_body(i)
            b["groupKey"] += ":grouped"
            g = grouped.setdefault(b["groupKey"], {**b, "alerts": []})
            g["alerts"] += b["alerts"]
        t0 = time.perf_counter()
        recorded = 0
        for b in grouped.values():
            recorded += client.post(f"{srv.url}/api/v1/alerts/alertmanager", json=b).json()["recorded"]
        out["grouped"] = fingerprints / (time.perf_counter() - t0)
        out["grouped_recorded"] = recorded
        incident = uuid7()
        client.post(
            f"{srv.url}/api/v1/events",
            json={
                "events": [new_event(incident, "incident.declared", "b", {"title": "x", "severity": "SEV3"}).to_dict()]
            },
        )
        t0 = time.perf_counter()
        for i in range(fingerprints):
            client.post(
                f"{srv.url}/api/v1/events",
                json={"events": [new_event(incident, "note", "b", {"text": f"n{i}"}).to_dict()]},
            )
        out["events"] = fingerprints / (time.perf_counter() - t0)
        return out
    finally:
        client.close()
        srv.stop()


def say(line: str) -> None:
    print(line, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--rate", type=float, default=20)
    ap.add_argument("--fingerprints", type=int, default=1000)
    a = ap.parse_args()
    print(f"bench_notify: {os.cpu_count()} cores shared with other sessions; load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        five = ["/d1", "/d2", "/d3", "/d4", "/d5"]
        r1 = delivery(tmp, "healthy", five, a.seconds, a.rate)
        lat, acks, plain = r1["lat"], r1["acks"], r1["plain"]
        say(f"\n1. delivery, 5 healthy destinations, {a.rate:g} events/s for {a.seconds:g} s")
        say(f"   {len(lat)} deliveries, {r1['missing']} missing")
        say(f"   append -> receiver p50 {pct(lat, 50):6.1f} ms  p95 {pct(lat, 95):6.1f} ms  max {max(lat):6.1f} ms")
        say(f"   baseline: the append's ack p50 {pct(acks, 50):6.1f} ms  p95 {pct(acks, 95):6.1f} ms")
        say(f"   baseline: a plain POST to the receiver p50 {pct(plain, 50):6.1f} ms  p95 {pct(plain, 95):6.1f} ms")
        ok1 = pct(lat, 95) <= TARGET_P95_MS and r1["missing"] == 0
        say(f"   target p95 <= {TARGET_P95_MS:g} ms, none missing: {'met' if ok1 else 'NOT met'}")
        r2 = delivery(tmp, "one-hanging", ["/hang", *five[:4]], a.seconds, a.rate)
        lat2 = r2["lat"]
        say("\n2. delivery, 4 healthy + 1 hanging (answers after 3 s; the sender times out at 1 s)")
        say(f"   {len(lat2)} deliveries to the healthy four, {r2['missing']} missing")
        say(f"   healthy: append -> receiver p50 {pct(lat2, 50):6.1f} ms  p95 {pct(lat2, 95):6.1f} ms")
        say(f"   baseline: run 1's p95 {pct(lat, 95):6.1f} ms -> ratio {pct(lat2, 95) / pct(lat, 95):.2f}x")
        ok2 = pct(lat2, 95) <= TARGET_P95_MS and r2["missing"] == 0
        say(f"   target: the hanging one delays none of the others: {'met' if ok2 else 'NOT met'}")
        r3 = intake(tmp, a.fingerprints)
        say(f"\n3. alert intake, {a.fingerprints} distinct fingerprints, one alert a request, 10 groups")
        say(f"   new alerts       {r3['new']:7.0f} alerts/s ({r3['new_recorded']:.0f} recorded)")
        say(f"   repeats (dedupe) {r3['repeat']:7.0f} alerts/s ({r3['repeat_recorded']:.0f} recorded)")
        say(
            f"   grouped as Alertmanager sends them (10 requests of {a.fingerprints // 10}): "
            f"{r3['grouped']:7.0f} alerts/s ({r3['grouped_recorded']:.0f} recorded)"
        )
        say(f"   baseline: POST /api/v1/events, one event a request {r3['events']:7.0f} events/s")
        say(
            f"   new alerts at {r3['new'] / r3['events']:.2f}x, "
            f"repeats at {r3['repeat'] / r3['events']:.2f}x the baseline"
        )


if __name__ == "__main__":
    main()
