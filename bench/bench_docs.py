"""Snapshot and postmortem of a 100k-event incident (target: under 500 ms each; 5 s at 1M).

    python bench/bench_docs.py [--events 100000] [--repeat 5] [--against OLD_CHECKOUT]
    python bench/bench_docs.py --events 1000000 --repeat 1
    python bench/bench_docs.py --cli --events 1000000 --repeat 3 [--against OLD_CHECKOUT]

Prints the median wall and CPU time of each figure beside baselines measured in the
same run on the same events (folding them, and json.dumps of them), so the numbers
mean something on any machine. On a machine shared with other work the wall time
includes waiting for a core, so the verdict is on CPU time. Exits 1 if a document
misses the target. `--against DIR` measures another checkout's package (PYTHONPATH)
just before, in the same run, and prints the ratio of each CPU figure to it.

`--cli` measures what a person waits for instead: the `postmortem` and `snapshot` verbs
as real processes on bench_scale.py's store (49 closed incidents and the active INC-50
holding nine tenths of the events), reading the incident through the store's index,
each code on its own copy of the store (its index built by an untimed `show`), runs
interleaved; the target (issue 16) is 5 s at 1M events.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from incident_tui.docs import fold_incident, postmortem_document, postmortem_json, snapshot_document
from incident_tui.domain.checklists import load_runbooks
from incident_tui.domain.events import Event, format_at
from incident_tui.domain.fold import fold

TARGET_MS = 500.0  # at 100k events and below; 5 s at 1M (linear above 100k)
INCIDENT = "0193f1c2-0000-7000-8000-00000000beef"


def make_events(n: int) -> list[Event]:
    """A long incident that exercises every document section: mostly timeline text, with
    role changes, severity and phase changes, hypotheses, follow-ups and checklist ticks."""
    t0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    out: list[Event] = []

    def add(kind: str, data: dict, author: str = "alice") -> None:
        seq = len(out) + 1
        at = format_at(t0 + timedelta(seconds=seq))
        out.append(Event(f"{INCIDENT[:-8]}{seq:08d}", INCIDENT, at, author, kind, data, seq))

    add("incident.declared", {"title": "Checkout failing for EU customers", "severity": "SEV2"})
    add("role.assigned", {"role": "commander", "user": "alice"})
    people = ["bob", "carol", "dave", "erin", "frank"]
    kinds = ["note", "obs", "note", "action", "decision", "note", "obs", "update", "note", "action"]
    phases = ["triage", "mitigating", "monitoring", "mitigating"]
    i = 0
    while len(out) < n - 3:
        i += 1
        who = people[i % len(people)]
        if i % 997 == 0:
            add("severity.set", {"severity": ("SEV1", "SEV2")[i // 997 % 2]})
        elif i % 1499 == 0:
            add("phase.set", {"phase": phases[i // 1499 % len(phases)]})
        elif i % 211 == 0:
            add("hypothesis", {"text": f"Hypothesis {i}: pool exhaustion on shard {i % 17} #db"}, who)
        elif i % 307 == 0:
            add("hypothesis.rejected", {"number": 1 + (i // 307) % 5, "text": "metrics disagree"}, who)
        elif i % 401 == 0:
            add("followup", {"text": f"Follow-up {i}: alert on pool saturation", "owner": who, "due": "2026-12-11"})
        elif i % 89 == 0:
            add("role.assigned", {"role": "sme", "user": f"sme{i % 40}"})
        elif i % 53 == 0:
            add("checklist.set", {"phase": "mitigating", "item": "record-actions", "done": i % 2 == 0})
        elif i % 613 == 0:  # the second pass's kinds (SPEC 9)
            add(("mitigation", "dataloss", "background")[i % 3], {"text": f"entry {i}: restored shard {i % 17}"}, who)
        elif i % 617 == 0:
            add("lesson", {"text": f"lesson {i}", "lesson": ("well", "wrong", "lucky")[i % 3]}, who)
        elif i % 619 == 0:
            add("why", {"text": f"why {i}", "chain": ("impact", "recovery")[i % 2]}, who)
        else:
            k = kinds[i % len(kinds)]
            add(k, {"text": f"{k} {i}: error rate on checkout-api at {i % 100}% in eu-west-{i % 3} #checkout"}, who)
    add("phase.set", {"phase": "monitoring"})
    add("phase.set", {"phase": "resolved"})
    add("rootcause", {"text": "v2.41 did not return DB connections on the retry path"})
    return out


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    """Median wall and CPU time (ms) of `repeat` runs, and the result."""
    wall, cpu, result = [], [], None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return statistics.median(wall), statistics.median(cpu), result


def measure(n: int, repeat: int) -> list[tuple[str, float, float, float | None, str]]:
    """(name, wall ms, cpu ms, CPU target ms or None, size) of each figure, fold first."""
    target = TARGET_MS * max(1.0, n / 100_000)
    runbooks = load_runbooks()
    events = make_events(n)
    now = events[-1].when + timedelta(minutes=5)
    fold_ms, fold_cpu, reg = timed(lambda: fold(events), repeat)
    state = reg.incidents[INCIDENT]  # type: ignore[attr-defined]
    half = len(events) // 2
    runs: list[tuple[str, Callable[[], object], float | None]] = [
        ("baseline: json.dumps of the events", lambda: json.dumps([e.to_dict() for e in events]), None),
        ("snapshot md (fold included)", lambda: snapshot_document(events, INCIDENT, runbooks, now, "md"), target),
        ("snapshot json (fold included)", lambda: snapshot_document(events, INCIDENT, runbooks, now, "json"), target),
        ("snapshot md --at-seq n/2", lambda: snapshot_document(events, INCIDENT, runbooks, now, "md", half), target),
        ("postmortem of a folded state", lambda: postmortem_document(state, runbooks, now), target),
        (
            "postmortem, fold included",
            lambda: postmortem_document(fold_incident(events, INCIDENT), runbooks, now),
            target,
        ),
        ("postmortem json (no target)", lambda: postmortem_json(state, runbooks, now), None),
    ]
    out: list[tuple[str, float, float, float | None, str]] = [
        ("baseline: fold all events", fold_ms, fold_cpu, None, "")
    ]
    for name, fn, limit in runs:
        wall, cpu, result = timed(fn, repeat)
        out.append((name, wall, cpu, limit, f"{len(result):,} chars" if isinstance(result, str) else ""))
    return out


def other_code(code: str, args: list[str]) -> str:
    """This script's output under another checkout's package (PYTHONPATH), niced as we are."""
    env = dict(os.environ, PYTHONPATH=code)
    out = subprocess.run([sys.executable, __file__, *args], env=env, capture_output=True, text=True)
    if out.returncode not in (0, 1):
        raise SystemExit(f"{code}: {out.stderr.strip()}")
    return out.stdout


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--events", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--against", metavar="DIR", help="another checkout measured in the same run (before/after)")
    p.add_argument("--cli", action="store_true", help="the real CLI verbs on a bench_scale store instead")
    p.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.cli:
        return cli_main(a)
    before = None
    if a.against:
        before = json.loads(other_code(a.against, ["--events", str(a.events), "--repeat", str(a.repeat), "--json"]))
    figures = measure(a.events, a.repeat)
    if a.json:
        print(json.dumps(figures))
        return 0
    fold_cpu = figures[0][2]
    print(f"{a.events:,} events in one incident, median of {a.repeat} runs, Python {sys.version.split()[0]}")
    vs = f" {'before':>8} {'ratio':>6}" if before else ""
    print(f"{'':38} {'wall ms':>8} {'cpu ms':>8} {'x fold':>7}{vs}  verdict (on CPU time)")
    ok = True
    for k, (name, wall, cpu, limit, size) in enumerate(figures):
        verdict = ""
        if limit is not None:
            ok &= cpu < limit
            verdict = f"{'ok' if cpu < limit else 'OVER'} (< {limit:.0f} ms)"
        was = f" {before[k][2]:8.1f} {cpu / before[k][2]:6.2f}" if before else ""
        print(f"{name:38} {wall:8.1f} {cpu:8.1f} {cpu / fold_cpu:7.2f}{was}  {verdict} {size}".rstrip())
    if before:
        print(f"(before: cpu ms of {a.against}, measured just before in the same run; ratio = now / before)")
    return 0 if ok else 1


# -- the CLI verbs on a big shared store (issue 16) ----------------------------------------


def cli_main(a: argparse.Namespace) -> int:
    """`incident-tui postmortem|snapshot INC-50 -o /dev/null` as real processes on bench_scale's
    store of `--events` events (the active incident holds nine tenths), each code on its own
    copy with its own index (built by an untimed `show` first), runs interleaved."""
    import tempfile
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bench_scale

    src = bench_scale.cached_store(a.events)
    codes = [("now", None), *([("before", a.against)] if a.against else [])]
    verbs = [("postmortem", ("postmortem", "INC-50")), ("snapshot", ("snapshot", "INC-50"))]
    target = 5.0 * a.events / 1_000_000 if a.events >= 1_000_000 else None
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        os.chdir(home)  # `python -m` puts the working directory first on sys.path
        stores = {}
        for name, code in codes:
            env = bench_scale.env_for(home, code)
            store = bench_scale.fresh_copy(src, home / name)
            bench_scale.run_timed(bench_scale.cli(store, "show", "INC-50"), env)  # builds its index
            stores[name] = (store, env)
        got: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
        for _ in range(a.repeat):
            for verb, args in verbs:
                for name, _code in codes:
                    store, env = stores[name]
                    got.setdefault((verb, name), []).append(_run(bench_scale.cli(store, *args, "-o", os.devnull), env))
    print(f"CLI on a {a.events:,}-event store (INC-50 holds nine tenths), median of {a.repeat} runs each, interleaved")
    ok = True
    for verb, _args in verbs:
        row = []
        for name, _code in codes:
            runs = got[verb, name]
            wall, cpu, rss = (statistics.median(r[i] for r in runs) for i in range(3))
            row.append((name, wall, cpu, rss))
        now = row[0]
        ok &= target is None or now[2] <= target
        line = f"  {verb:<10} now {now[1]:6.2f} s wall, {now[2]:6.2f} s CPU, {now[3]:5.0f} MB"
        if len(row) > 1:
            b = row[1]
            line += f"; before {b[1]:6.2f} s wall, {b[2]:6.2f} s CPU, {b[3]:5.0f} MB: CPU x{now[2] / b[2]:.2f}"
        print(line + (f"  [target <= {target:g} s]" if target else ""))
    return 0 if ok else 1


def _run(args: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """(wall s, CPU s, peak RSS MB) of one child process."""
    t = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(args)} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


if __name__ == "__main__":
    raise SystemExit(main())
