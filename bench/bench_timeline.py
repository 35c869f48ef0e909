"""A 100k-event incident: time to open it, peak memory, and key-to-screen latency under live load.

    python bench/bench_timeline.py [--events 100000] [--live-seconds 30] [--rate 20] [--baseline-python PY]

1. Open (every 10th stored line a ~300-character note): the real CLI starts the real app
   (App.run swapped for a headless run_test, in a child process of its own); the clock
   runs from spawn until the Timeline's virtual size covers every event and it has
   scrolled to the top. Targets: < 1 s, peak RSS < 200 MB.
   Beside it, in the same run: the store read and folded without Textual (the floor),
   Textual's Log widget fed the same lines with one write_lines call, and the app with
   its rows cut to one line (no wrapping). Wrapping may cost <= 10% over the cut rows.
2. Keys: the real app in a real pty; one key every 50 ms is typed into the command bar and
   timed until the new text is on the screen stream, while another process appends
   `--rate` long (~300-character, wrapping) notes a second. Target: p99 < 50 ms. Beside it:
   the app with no live load and a minimal Textual app with an Input, typed the same way;
   with `--baseline-python PY`, also the app as another interpreter has it installed (a venv
   with main, say), under the same live load: the A/B for a change.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _fixtures import write_store  # noqa: E402
from _pty import PtyProgram  # noqa: E402

from incident_tui.domain.fold import Registry  # noqa: E402
from incident_tui.store.jsonfile import JsonStore  # noqa: E402

OPEN_TARGET_S = 1.0
RSS_TARGET_MB = 200.0
KEY_TARGET_MS = 50.0
KEY_INTERVAL = 0.05
ALPHABET = "abcdefghijklmnopqrstuvwxyz"
WORD = 40  # characters typed before ctrl+u clears the bar (stays well inside 80 columns)


# The app as the CLI starts it, with the timeline's rows cut to one line (the A/B baseline).
CUT_APP = (
    "import sys; from incident_tui.ui.widgets.timeline import Timeline; Timeline.WRAP = False; "
    "from incident_tui.cli import main; sys.exit(main(sys.argv[1:]))"
)


def run_child(mode: str, store: Path, rows: int, env: dict[str, str]) -> dict:
    spawned = time.time()
    out = subprocess.run(
        [sys.executable, str(HERE / "_children.py"), mode, str(store), str(rows), repr(spawned)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
    )
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"{mode} child failed: {out.stderr.strip().splitlines()[-1:] or out.returncode}")


def median_run(results: list[dict]) -> dict:
    """The run with the median time to top (its own figures stay together)."""
    return sorted(results, key=lambda r: r["top_s"])[len(results) // 2]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def type_keys(prog: PtyProgram, seconds: float) -> tuple[list[float], int]:
    """Type one key per KEY_INTERVAL; ms from write to the new bar text on screen."""
    samples: list[float] = []
    timeouts = 0
    value, word = "", 0
    end = time.perf_counter() + seconds
    next_at = time.perf_counter()
    while time.perf_counter() < end:
        if len(value) >= WORD:
            prog.send(b"\x15")  # ctrl+u: Input's delete-all-left
            prog.drain(0.2)
            value, word = "", word + 1
        ch = ALPHABET[(word + len(value)) % len(ALPHABET)]
        value += ch
        prog.mark()
        sent = prog.send(ch)
        shown = prog.wait_for(value, 2.0)
        if shown is None:
            timeouts += 1
        else:
            samples.append((shown - sent) * 1000)
        next_at += KEY_INTERVAL
        prog.drain(max(0.0, next_at - time.perf_counter()))
    return samples, timeouts


def typing_run(cmd: list[str], env: dict[str, str], ready: str, seconds: float, writer: list[str] | None) -> dict:
    # A data dir of its own: the app restores the last run's unsent line as a draft otherwise.
    env = {**env, "XDG_DATA_HOME": tempfile.mkdtemp(dir=Path(env["XDG_DATA_HOME"]).parent)}
    prog = PtyProgram(cmd, 120, 40, env)
    live = None
    try:
        if prog.wait_for(ready, 60) is None:
            raise RuntimeError(f"{ready!r} never appeared:\n{prog.screen()}")
        prog.drain(1.5)  # first load settles
        if writer:
            live = subprocess.Popen(writer, stdout=subprocess.PIPE, text=True, env={**os.environ, **env})
            assert live.stdout is not None
            live.stdout.readline()  # "live": the writer has loaded the store and starts appending
        samples, timeouts = type_keys(prog, seconds)
    finally:
        prog.close()
        if live is not None:
            live.terminate()
            live.wait()
    return {"samples": samples, "timeouts": timeouts}


def show_keys(label: str, r: dict, judged: bool) -> None:
    s = r["samples"]
    if not s:
        print(f"  {label:<34} no samples ({r['timeouts']} timeouts)")
        return
    p99 = percentile(s, 99)
    verdict = ("met" if p99 < KEY_TARGET_MS and not r["timeouts"] else "MISSED") if judged else "baseline"
    figures = (
        f"n={len(s):>4} p50={statistics.median(s):6.1f} p95={percentile(s, 95):6.1f} p99={p99:6.1f} max={max(s):6.1f}"
    )
    print(f"  {label:<34} {figures} ms  timeouts={r['timeouts']}  {verdict}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--live-seconds", type=float, default=30.0)
    ap.add_argument("--baseline-seconds", type=float, default=10.0)
    ap.add_argument("--rate", type=float, default=20.0)
    ap.add_argument("--open-runs", type=int, default=3)
    ap.add_argument("--skip-keys", action="store_true")
    ap.add_argument("--skip-open", action="store_true")
    ap.add_argument("--long-every", type=int, default=10, help="every Nth stored line is a ~300-character note")
    ap.add_argument("--baseline-python", help="an interpreter whose incident_tui is typed into beside this one")
    a = ap.parse_args()
    app_bin = shutil.which("incident-tui", path=str(Path(sys.executable).parent)) or "incident-tui"

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        os.chdir(home)  # `python -m` imports from the working directory first: not a checkout's
        store = home / "store.jsonl"
        t = time.perf_counter()
        (incident,) = write_store(store, incidents=1, events=a.events, long_every=a.long_every)
        registry = Registry()
        registry.extend(JsonStore(store).read())
        rows = len(registry.incidents[incident].timeline)
        size_mb = store.stat().st_size / 1e6
        print(f"store: 1 incident, {a.events} events ({size_mb:.0f} MB), written in {time.perf_counter() - t:.1f} s")
        print(f"load average {os.getloadavg()[0]:.2f} at start (2 cores shared: busy minutes skew every figure)")
        env = {
            "INCIDENT_TUI_CONFIG": str(home / "config.toml"),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_DATA_HOME": str(home / "data"),
        }

        if not a.skip_open:
            open_figures(a, store, rows, env)
        if a.skip_keys:
            return
        keys_figures(a, store, incident, env, app_bin)


def open_figures(a: argparse.Namespace, store: Path, rows: int, env: dict[str, str]) -> None:
    print(
        f"\nopen an incident of {rows} timeline rows until scrolled to the top "
        f"(seconds from spawn, median of {a.open_runs} interleaved runs)"
    )
    runs: dict[str, list[dict]] = {"floor": [], "log": [], "cut": [], "open": []}
    for _ in range(a.open_runs):
        for mode, results in runs.items():
            results.append(run_child(mode, store, rows, env))
    floor, log, cut, app = (median_run(runs[m]) for m in ("floor", "log", "cut", "open"))
    print(f"  {'store read + fold, no Textual':<34} {floor['top_s']:6.2f} s  peak {floor['rss_mb']:5.0f} MB  floor")
    print(f"  {'Textual Log.write_lines baseline':<34} {log['top_s']:6.2f} s  peak {log['rss_mb']:5.0f} MB  baseline")
    print(
        f"  {'incident-tui, rows cut (no wrap)':<34} {cut['top_s']:6.2f} s  peak {cut['rss_mb']:5.0f} MB  "
        f"baseline (first paint {cut['covered_s']:.2f} s)"
    )
    # Wrapping may cost at most 10% over the cut rows, in time to first paint and in memory.
    paint_ratio = app["covered_s"] / cut["covered_s"]
    rss_ratio = app["rss_mb"] / cut["rss_mb"]
    ok = app["top_s"] < OPEN_TARGET_S and app["rss_mb"] < RSS_TARGET_MB
    verdict = "met" if ok else "MISSED"
    print(f"  {'incident-tui, rows wrapped':<34} {app['top_s']:6.2f} s  peak {app['rss_mb']:5.0f} MB  {verdict}")
    wrap_verdict = "met" if max(paint_ratio, rss_ratio) <= 1.10 else "MISSED"
    print(
        f"    wrapped / cut: first paint {paint_ratio:.2f}x, peak memory {rss_ratio:.2f}x "
        f"(target <= 1.10x) {wrap_verdict}; "
        f"wrapped / Log: {app['top_s'] / log['top_s']:.2f}x time, {app['rss_mb'] / log['rss_mb']:.2f}x memory"
    )
    print(
        f"    imports done {app['imported_s']:.2f} s, App.run called {app['app_run_s']:.2f} s, "
        f"timeline covers {app['rows']} rows {app['covered_s']:.2f} s, at top {app['top_s']:.2f} s"
    )
    print(f"    top row: {app['top_line'][:90]!r}")
    print(f"    targets: < {OPEN_TARGET_S} s, peak < {RSS_TARGET_MB:.0f} MB")


def keys_figures(a: argparse.Namespace, store: Path, incident: str, env: dict[str, str], app_bin: str) -> None:
    print(f"\nkey to screen in the command bar through a pty, one key every {KEY_INTERVAL * 1000:.0f} ms")
    minimal = typing_run(
        [sys.executable, str(HERE / "minimal_app.py"), "--input"], env, "type here", a.baseline_seconds, None
    )
    show_keys("minimal app with an Input", minimal, judged=False)
    app_cmd = [app_bin, "--store", str(store), "--user", "bench"]
    idle = typing_run(app_cmd, env, "type a note", a.baseline_seconds, None)
    show_keys("incident-tui, no live load", idle, judged=False)
    writer = [sys.executable, str(HERE / "_fixtures.py"), "live", str(store), incident, str(a.rate)]
    writer.append(str(a.live_seconds + 5))
    writer.append("long")  # ~300-character notes: each arrives as several wrapped rows
    # The same app with its rows cut (no wrapping), the same long notes arriving: what wrapping costs.
    cut_cmd = [sys.executable, "-c", CUT_APP, "--store", str(store), "--user", "bench"]
    cut = typing_run(cut_cmd, env, "type a note", a.live_seconds, writer)
    show_keys(f"rows cut, {a.rate:.0f} long notes/s arriving", cut, judged=False)
    if a.baseline_python:
        base_cmd = [a.baseline_python, "-m", "incident_tui", "--store", str(store), "--user", "bench"]
        base = typing_run(base_cmd, env, "type a note", a.live_seconds, writer)
        show_keys(f"baseline, {a.rate:.0f} long notes/s arriving", base, judged=False)
    busy = typing_run(app_cmd, env, "type a note", a.live_seconds, writer)
    show_keys(f"incident-tui, {a.rate:.0f} long notes/s arriving", busy, judged=True)
    print(f"    target: p99 < {KEY_TARGET_MS:.0f} ms over {a.live_seconds:.0f} s")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
