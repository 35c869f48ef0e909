"""What a person waits for on a big store: CLI verbs, first paint, serve start, documents.

    python bench/bench_scale.py [--sizes 1000,100000,1000000] [--runs 3] [--code DIR]

Each size is a store of 50 incidents: 49 closed ones sharing a tenth of the events and
one active incident holding the rest (a long war room on a store that has held a year of
incidents). Stores are generated once, as JSON lines written directly (a million events
through the store API takes minutes), and cached under $BENCH_SCALE_CACHE (default
/tmp/incident-tui-bench-scale); every measurement works on a fresh copy, so an index the
code under test writes beside the log is measured as a first open ("cold") and again
("warm") when it makes one.

Every figure is printed beside its baseline, measured in the same run:
- CLI `log`, `show`, `list`: wall time and peak RSS of a real process, beside the same
  verb on the demo-sized store (the 1k store). Target <= 2x, <= 150 MB.
- First paint: through a real pty until the active incident's newest timeline row is on
  screen, beside a minimal Textual app (bench/minimal_app.py). Target <= 2x, <= 400 MB.
- `serve` start: spawn until /api/v1/health answers, beside the same on the 1k store.
  Target <= 2 s.
- Postmortem of the active incident (`incident-tui postmortem`), beside its 1k figure.
  Target <= 5 s at 1M.
- `/health` p99 while postmortems of that incident render, beside /health alone.
  Target <= 20 ms.
- Append p50 of one event into the store, beside a plain O_APPEND + fsync of the same
  line on the same disk. Target <= 1.5x.

`--code DIR` runs the verbs with another checkout's package first on PYTHONPATH (for a
before/after in one run: `--code /path/to/main`).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _serve import free_port, pct  # noqa: E402

CACHE = Path(os.environ.get("BENCH_SCALE_CACHE", "/tmp/incident-tui-bench-scale"))
HISTORY = 49
END_MARKER = "bench-scale newest row"
AUTHORS = ("alice", "bob", "carol", "dave", "erin", "frank")
TEXTS = (
    ("note", "p99 latency on checkout at {n} ms", ["checkout"]),
    ("obs", "connection pool at {n}/500 on orders-db-eu", ["db"]),
    ("action", "restarted worker {n} in eu-west-1", ["mitigation"]),
    ("decision", "keep traffic on the standby for another {n} minutes", ["failover"]),
    ("note", "error budget burn {n}% in the last hour", ["slo"]),
)


# -- the stores ----------------------------------------------------------------------


def _at(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def generate(path: Path, events: int, seed: int = 16) -> None:
    """A store of `events` events: HISTORY closed incidents, then one active one."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    tmp = path.with_suffix(".tmp")
    seq = 0
    with open(tmp, "wb") as f:
        f.write(b'{"format": "incident-tui/events", "version": 1}\n')

        def put(incident: str, at: datetime, author: str, kind: str, data: dict) -> None:
            nonlocal seq
            seq += 1
            ev = {"seq": seq, "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "incident": incident}
            ev.update(at=_at(at), author=author, kind=kind, data=data)
            f.write(orjson.dumps(ev) + b"\n")

        active_share = events - events // 10
        per_old = max(8, (events - active_share) // HISTORY)
        start = now - timedelta(days=365)
        for n in range(HISTORY):
            inc = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            t = start + timedelta(days=7 * n)
            put(inc, t, "alice", "incident.declared", {"title": f"Closed bench incident {n + 1}", "severity": "SEV3"})
            put(inc, t, "alice", "role.assigned", {"role": "commander", "user": "alice"})
            for i in range(per_old - 4):
                kind, text, tags = TEXTS[i % len(TEXTS)]
                put(inc, t + timedelta(seconds=i), rng.choice(AUTHORS), kind, {"text": text.format(n=i), "tags": tags})
            put(inc, t + timedelta(hours=5), "alice", "phase.set", {"phase": "resolved"})
            put(inc, t + timedelta(hours=6), "alice", "phase.set", {"phase": "closed"})
        inc = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        left = events - seq
        t = now - timedelta(days=2)
        step = timedelta(days=2) / max(left, 1)
        put(inc, t, "alice", "incident.declared", {"title": "Active bench incident", "severity": "SEV2"})
        put(inc, t, "alice", "role.assigned", {"role": "commander", "user": "alice"})
        put(inc, t, "alice", "phase.set", {"phase": "mitigating"})
        put(inc, t, "bob", "hypothesis", {"text": "v2.41 leaks DB connections", "tags": []})
        put(inc, t, "bob", "followup", {"text": "alert on pool saturation", "tags": [], "owner": "bob"})
        for i in range(events - seq - 1):
            kind, text, tags = TEXTS[i % len(TEXTS)]
            put(inc, t + i * step, rng.choice(AUTHORS), kind, {"text": text.format(n=i), "tags": tags})
        put(inc, now - timedelta(seconds=1), "bob", "note", {"text": END_MARKER, "tags": []})
    os.replace(tmp, path)


def cached_store(events: int) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"store-{events}.jsonl"
    if not path.exists():
        t = time.perf_counter()
        generate(path, events)
        print(f"  generated {events} events in {time.perf_counter() - t:.1f} s ({path})", flush=True)
    return path


def fresh_copy(src: Path, into: Path) -> Path:
    into.mkdir(parents=True, exist_ok=True)
    dst = into / "incidents.jsonl"
    for old in into.glob("incidents.jsonl*"):
        old.unlink()
    shutil.copyfile(src, dst)
    return dst


# -- measuring processes ----------------------------------------------------------------


def env_for(home: Path, code: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        INCIDENT_TUI_CONFIG=str(home / "config.toml"),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        INCIDENT_TUI_USER="bench",
        TERM=os.environ.get("TERM", "xterm-256color"),
    )
    if code:
        env["PYTHONPATH"] = code
    return env


def run_timed(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of one child process."""
    t = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}): {err.strip()}")
    return wall, usage.ru_maxrss / 1024


def cli(store: Path, *verb: str) -> list[str]:
    return [sys.executable, "-m", "incident_tui", "--store", str(store), *verb]


def verb_figures(store: Path, env: dict[str, str], runs: int) -> dict[str, tuple[float, float, float]]:
    """verb -> (first run s, median of later runs s, peak RSS MB)."""
    verbs = {
        "log": ("log", "INC-50", "/obs bench-scale line"),
        "show": ("show", "INC-50"),
        "list": ("list",),
    }
    out = {}
    for name, verb in verbs.items():
        walls, rss = [], 0.0
        for _ in range(runs + 1):
            w, r = run_timed(cli(store, *verb), env)
            walls.append(w)
            rss = max(rss, r)
        out[name] = (walls[0], statistics.median(walls[1:]), rss)
    return out


def first_paint(store: Path, env: dict[str, str], runs: int, size: str = "120x40") -> tuple[float, float]:
    """(median ms, peak RSS MB) until the active incident's newest row is on screen."""
    cols, rows = size.split("x")
    args = [sys.executable, str(HERE / "ttfp.py"), "--cols", cols, "--rows", rows, "--runs", str(runs)]
    args += ["--marker", END_MARKER, "--quit", "\\x11", "--timeout", "120"]
    for k in ("INCIDENT_TUI_CONFIG", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "TERM", "PYTHONPATH"):
        if k in env:
            args += ["--env", f"{k}={env[k]}"]
    rss_file = store.with_name("rss.txt")
    rss_file.unlink(missing_ok=True)
    wrapped = [sys.executable, str(HERE / "_rss.py"), str(rss_file), "--", *cli(store, "--user", "bench")]
    out = subprocess.run([*args, "--", *wrapped], capture_output=True, text=True, env=env)
    ms = [float(line.split(": ")[1].split()[0]) for line in out.stdout.splitlines() if line.startswith("run ")]
    rss = [float(x) for x in rss_file.read_text().split()] if rss_file.exists() else [float("nan")]
    return (statistics.median(ms) if ms else float("nan")), max(rss)


def minimal_paint(env: dict[str, str], runs: int, size: str = "120x40") -> float:
    cols, rows = size.split("x")
    args = [sys.executable, str(HERE / "ttfp.py"), "--cols", cols, "--rows", rows, "--runs", str(runs)]
    args += ["--marker", "minimal app ready", "--quit", "\\x11"]
    out = subprocess.run([*args, "--", sys.executable, str(HERE / "minimal_app.py")], capture_output=True, text=True)
    ms = [float(line.split(": ")[1].split()[0]) for line in out.stdout.splitlines() if line.startswith("run ")]
    return statistics.median(ms) if ms else float("nan")


class Server:
    def __init__(self, store: Path, env: dict[str, str]) -> None:
        import httpx

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api/v1"
        t = time.perf_counter()
        self.proc = subprocess.Popen(
            cli(store, "serve", "--port", str(self.port)),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.client = httpx.Client(timeout=60)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                if self.client.get(f"{self.url}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.01)
        else:
            raise SystemExit("server did not answer")
        self.start_s = time.perf_counter() - t

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def health_p99(self, seconds: float, postmortems: bool) -> tuple[float, int]:
        """(/health p99 ms at 20 probes a second, postmortems rendered meanwhile)."""
        import httpx

        stop = threading.Event()
        done = 0

        def render() -> None:
            nonlocal done
            with httpx.Client(timeout=120) as c:
                while not stop.is_set():
                    c.get(f"{self.url}/incidents/INC-50/postmortem")
                    done += 1

        worker = threading.Thread(target=render, daemon=True) if postmortems else None
        if worker:
            worker.start()
        lat = []
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            t = time.perf_counter()
            self.client.get(f"{self.url}/health")
            lat.append((time.perf_counter() - t) * 1000)
            time.sleep(0.05)
        stop.set()
        if worker:
            worker.join(120)
        return pct(lat, 99), done

    def stop(self) -> None:
        self.client.close()
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def append_p50(store: Path, code: str | None, n: int = 200) -> tuple[float, float]:
    """(store append p50 ms, plain O_APPEND+fsync p50 ms), interleaved, in a child process."""
    prog = r"""
import os, statistics, sys, time
from incident_tui.domain.events import new_event
from incident_tui.store.jsonfile import JsonStore
path, n = sys.argv[1], int(sys.argv[2])
store = JsonStore(path)
inc = store.read(store.latest_seq() - 1)[0].incident
plain = os.open(path + ".plain", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
a, b = [], []
for i in range(n):
    e = new_event(inc, "note", "bench", {"text": f"append {i}", "tags": []})
    t = time.perf_counter(); store.append([e]); a.append(time.perf_counter() - t)
    line = (e.id + " append line of about the same size as an event, for the baseline\n" * 2).encode()
    t = time.perf_counter(); os.write(plain, line); os.fsync(plain); b.append(time.perf_counter() - t)
print(statistics.median(a) * 1000, statistics.median(b) * 1000)
"""
    env = dict(os.environ, **({"PYTHONPATH": code} if code else {}))
    out = subprocess.run([sys.executable, "-c", prog, str(store), str(n)], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(out.stderr)
    x, y = out.stdout.split()
    return float(x), float(y)


# -- the run -----------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,100000,1000000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--code", default=None, help="a checkout whose package is measured instead")
    ap.add_argument("--skip", default="", help="comma list of: cli,paint,serve,docs,append")
    ap.add_argument("--health-seconds", type=float, default=10.0)
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    skip = set(filter(None, a.skip.split(",")))
    import compileall

    compileall.compile_dir(str(Path(a.code or HERE.parent) / "incident_tui"), quiet=1)
    print(f"bench_scale: code {a.code or HERE.parent}; load average {os.getloadavg()[0]:.2f} at start", flush=True)
    base_store = cached_store(1000)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        # `python -m` puts the working directory first on sys.path: run from elsewhere, so
        # --code (PYTHONPATH) decides which package is measured.
        os.chdir(home)
        env = env_for(home, a.code)
        base_dir = home / "base"
        base_cli = verb_figures(fresh_copy(base_store, base_dir), env, a.runs) if "cli" not in skip else {}
        minimal = minimal_paint(env, a.runs) if "paint" not in skip else float("nan")
        print(f"baselines: demo-sized (1k) CLI {fmt_cli(base_cli)}; minimal Textual app first paint {minimal:.0f} ms")
        if "serve" not in skip:
            srv = Server(fresh_copy(base_store, base_dir), env)
            base_serve = srv.start_s
            srv.stop()
            print(f"baseline: serve answering on the 1k store {base_serve:.2f} s")
        for n in sizes:
            src = cached_store(n)
            work = home / f"s{n}"
            print(f"-- {n} events ({src.stat().st_size / 1e6:.0f} MB); load {os.getloadavg()[0]:.2f}", flush=True)
            if "cli" not in skip:
                figs = verb_figures(fresh_copy(src, work), env, a.runs)
                for verb, (cold, warm, rss) in figs.items():
                    b = base_cli[verb][1]
                    print(
                        f"  {verb:<5} first {cold:6.2f} s, then {warm:6.2f} s = {warm / b:5.2f}x the 1k store "
                        f"({b:.2f} s); peak RSS {rss:5.0f} MB  [target <= 2x, <= 150 MB]",
                        flush=True,
                    )
            if "paint" not in skip:
                store = fresh_copy(src, work)
                warm, rss = first_paint(store, env, a.runs)  # ttfp.py drops its first (warm-up) run
                print(
                    f"  first paint (newest row on screen) {warm:6.0f} ms = "
                    f"{warm / minimal:5.2f}x minimal ({minimal:.0f} ms); peak RSS {rss:5.0f} MB "
                    "[target <= 2x, <= 400 MB]",
                    flush=True,
                )
            if "serve" not in skip:
                store = fresh_copy(src, work)
                srv = Server(store, env)
                cold = srv.start_s
                srv.stop()
                srv = Server(store, env)
                print(
                    f"  serve answering first {cold:6.2f} s, then {srv.start_s:6.2f} s (1k store {base_serve:.2f} s); "
                    f"peak RSS {srv.rss_mb():.0f} MB  [target <= 2 s]",
                    flush=True,
                )
                if "docs" not in skip:
                    quiet, _ = srv.health_p99(a.health_seconds / 2, postmortems=False)
                    busy, done = srv.health_p99(a.health_seconds, postmortems=True)
                    print(
                        f"  /health p99 {busy:6.1f} ms while {done} postmortems rendered (alone {quiet:.1f} ms) "
                        "[target <= 20 ms]",
                        flush=True,
                    )
                srv.stop()
            if "docs" not in skip:
                store = fresh_copy(src, work)
                walls = [run_timed(cli(store, "postmortem", "INC-50", "-o", os.devnull), env) for _ in range(2)]
                b = run_timed(cli(fresh_copy(base_store, base_dir), "postmortem", "INC-50", "-o", os.devnull), env)
                print(
                    f"  postmortem first {walls[0][0]:6.2f} s, then {walls[1][0]:6.2f} s, peak RSS "
                    f"{max(w[1] for w in walls):.0f} MB (1k store {b[0]:.2f} s)  [target <= 5 s]",
                    flush=True,
                )
            if "append" not in skip:
                store = fresh_copy(src, work)
                x, y = append_p50(store, a.code)
                print(f"  append p50 {x:.3f} ms = {x / y:.2f}x plain O_APPEND+fsync ({y:.3f} ms)  [target <= 1.5x]")
            shutil.rmtree(work, ignore_errors=True)
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


def fmt_cli(figs: dict[str, tuple[float, float, float]]) -> str:
    return ", ".join(f"{v} {w:.2f} s / {r:.0f} MB" for v, (_, w, r) in figs.items()) or "skipped"


if __name__ == "__main__":
    main()
