"""What one app costs while it follows an incident: CPU idle and under 10 events/s.

    python bench/bench_follow.py [--seconds 20] [--rate 10] [--apps 1] [--rounds 1] [--baseline-python PY]

A real `incident-tui serve` over a JSON store holding one active incident; the app runs
in a real pty as a `--remote` client (what each SSH session runs), 120x40, opened on the
incident's dashboard, its screen output read and thrown away as a terminal would. Measured
from /proc (utime + stime) over `--seconds`:
1. idle: nothing is written (from --settle seconds after the first paint: nobody types);
2. following: a writer appends `--rate` notes a second through the API.
`--baseline-python PY` runs the same with the interpreter PY (a venv with another version
of the package installed, e.g. main) beside it, interleaved, so the ratio holds on a noisy
machine. With
`--apps N`, N apps follow at once (the median app is reported).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import httpx  # noqa: E402
from _pty import PtyProgram  # noqa: E402
from _serve import Served  # noqa: E402

TITLE = "Bench follow"


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Reader(threading.Thread):
    """Reads a pty's output and drops it (a terminal that keeps up)."""

    def __init__(self, prog: PtyProgram) -> None:
        super().__init__(daemon=True)
        self.prog = prog
        self.stop = threading.Event()
        self.bytes = 0

    def run(self) -> None:
        while not self.stop.is_set():
            before = len(self.prog.raw)
            if not self.prog._pump(0.1):
                return
            self.bytes += len(self.prog.raw) - before
            del self.prog.raw[:]
            self.prog.mark()


class Writer(threading.Thread):
    def __init__(self, url: str, incident: str, rate: float) -> None:
        super().__init__(daemon=True)
        self.url, self.incident, self.rate = url, incident, rate
        self.stop = threading.Event()
        self.sent = 0

    def run(self) -> None:
        from incident_tui.domain.events import new_event

        with httpx.Client(timeout=10) as http:
            t0 = time.perf_counter()
            while not self.stop.is_set():
                text = f"live line {self.sent} #bench: replica lag on orders-db-eu at {self.sent % 97} s"
                e = new_event(self.incident, "note", "scribe", {"text": text})
                http.post(f"{self.url}/api/v1/events", json={"events": [e.to_dict()]})
                self.sent += 1
                delay = t0 + self.sent / self.rate - time.perf_counter()
                if delay > 0:
                    self.stop.wait(delay)


def start_apps(n: int, url: str, root: Path, label: str, python: str) -> list[tuple[PtyProgram, Reader]]:
    out = []
    for i in range(n):
        env = {
            "XDG_DATA_HOME": str(root / f"data-{label}-{i}"),
            "XDG_CONFIG_HOME": str(root / "config"),
            "INCIDENT_TUI_CONFIG": str(root / "config.toml"),
            "TERM": "xterm-256color",
        }
        cmd = [python, "-m", "incident_tui", "--remote", url, "--user", f"{label}{i}"]
        prog = PtyProgram(cmd, 120, 40, env)
        if prog.wait_for(TITLE, 60) is None:
            raise SystemExit(f"{label}: the app never showed the incident")
        reader = Reader(prog)
        reader.start()
        out.append((prog, reader))
    return out


def measure(apps: list[tuple[PtyProgram, Reader]], seconds: float) -> tuple[float, float]:
    """(median CPU % of a core, KiB/s written to the terminal) over `seconds`."""
    c0 = {p.pid: cpu_seconds(p.pid) for p, _ in apps}
    b0 = {p.pid: r.bytes for p, r in apps}
    t0 = time.perf_counter()
    time.sleep(seconds)
    wall = time.perf_counter() - t0
    cpu = statistics.median((cpu_seconds(p.pid) - c0[p.pid]) / wall * 100 for p, _ in apps)
    kib = statistics.median((r.bytes - b0[p.pid]) / wall / 1024 for p, r in apps)
    return cpu, kib


def stop_apps(apps: list[tuple[PtyProgram, Reader]]) -> None:
    for prog, reader in apps:
        reader.stop.set()
        reader.join()
        prog.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--rate", type=float, default=10.0)
    ap.add_argument("--apps", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--settle", type=float, default=12.0, help="seconds after the first paint before measuring")
    ap.add_argument("--baseline-python", help="an interpreter whose incident_tui is the baseline")
    a = ap.parse_args()
    import compileall

    compileall.compile_dir(str(HERE.parent / "incident_tui"), quiet=1)  # as an install would
    variants = [("this", sys.executable)]
    if a.baseline_python:
        where = [a.baseline_python, "-c", "import incident_tui, os; print(os.path.dirname(incident_tui.__file__))"]
        package = subprocess.run(where, capture_output=True, text=True, check=True).stdout.strip()
        compileall.compile_dir(package, quiet=1)
        variants.append(("base", a.baseline_python))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.chdir(root)  # `python -m` imports from the working directory first: not a checkout's
        server = Served(root / "store.jsonl", {"XDG_DATA_HOME": str(root / "srv")})
        try:
            from incident_tui.domain.commands import declare_event

            event = declare_event(TITLE, "commander", "SEV1", "")
            httpx.post(f"{server.url}/api/v1/events", json={"events": [event.to_dict()]}, timeout=10)
            print(f"bench_follow: {a.apps} app(s) at 120x40 following over --remote; load {os.getloadavg()[0]:.1f}")
            results: dict[str, dict[str, list[float]]] = {v: {"idle": [], "busy": [], "kib": []} for v, _ in variants}
            for _ in range(a.rounds):
                for label, src in variants:
                    apps = start_apps(a.apps, server.url, root, label, src)
                    try:
                        time.sleep(a.settle)  # the first load settles; nobody types (the cursor stops blinking)
                        idle, _ = measure(apps, a.seconds)
                        writer = Writer(server.url, event.incident, a.rate)
                        writer.start()
                        time.sleep(1.0)
                        busy, kib = measure(apps, a.seconds)
                        writer.stop.set()
                        writer.join()
                    finally:
                        stop_apps(apps)
                    results[label]["idle"].append(idle)
                    results[label]["busy"].append(busy)
                    results[label]["kib"].append(kib)
                    print(
                        f"  {label:<5} idle {idle:5.1f}% of a core   {a.rate:g} events/s {busy:5.1f}%"
                        f"  ({kib:.1f} KiB/s to the terminal)  load {os.getloadavg()[0]:.1f}",
                        flush=True,
                    )
            if a.baseline_python and a.rounds:
                med = {v: {k: statistics.median(x) for k, x in r.items()} for v, r in results.items()}
                t, b = med["this"], med["base"]
                print(
                    f"median of {a.rounds}: idle {t['idle']:.1f}% vs {b['idle']:.1f}% "
                    f"({t['idle'] / max(b['idle'], 0.01):.2f}x); following {t['busy']:.1f}% vs {b['busy']:.1f}% "
                    f"({t['busy'] / max(b['busy'], 0.01):.2f}x); terminal {t['kib']:.1f} vs {b['kib']:.1f} KiB/s"
                )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
