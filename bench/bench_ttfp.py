"""Time to first paint of `incident-tui` through a real pty, beside a minimal Textual app.

    python bench/bench_ttfp.py [--runs 7] [--sizes 120x40,80x24]

The store holds 20 incidents and 10k events. Both programs are timed by bench/ttfp.py
(fork until a marker shows on the screen stream) in the same run, interleaved, so
machine noise hits both alike. Two app figures, each judged against the target (<= 1.5x
the minimal app): the first paint (the list screen's own title, "Incidents") and the
paint that shows incidents from the store ("Bench incident"), which is what a user waits
for. The machine is shared, so read the ratio, not the milliseconds.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _fixtures import write_store  # noqa: E402

TARGET_RATIO = 1.5
RUN_LINE = re.compile(r"run \d+: (\d+) ms")


def timed(cmd: list[str], marker: str, size: tuple[int, int], runs: int, env: dict[str, str]) -> list[float]:
    """Milliseconds per run (the timer's warm-up run is already dropped)."""
    args = [sys.executable, str(HERE / "ttfp.py"), "--cols", str(size[0]), "--rows", str(size[1])]
    args += ["--runs", str(runs), "--marker", marker, "--quit", "\\x11"]  # ctrl+q
    for k, v in env.items():
        args += ["--env", f"{k}={v}"]
    out = subprocess.run([*args, "--", *cmd], capture_output=True, text=True, check=False).stdout
    return [float(m) for m in RUN_LINE.findall(out)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7, help="timed runs per program and round")
    ap.add_argument("--rounds", type=int, default=2, help="baseline/app alternations")
    ap.add_argument("--sizes", default="120x40,80x24")
    ap.add_argument("--chrome-marker", default="Incidents", help="text of the app's first paint")
    ap.add_argument("--data-marker", default="Bench incident", help="text that shows store data painted")
    a = ap.parse_args()
    sizes = [tuple(int(n) for n in s.split("x")) for s in a.sizes.split(",")]
    app_bin = shutil.which("incident-tui", path=str(Path(sys.executable).parent)) or "incident-tui"

    # An installed package has its bytecode compiled by pip; an editable checkout writes it
    # on first import, unless PYTHONDONTWRITEBYTECODE is set (as on our CI machines), when
    # every start would compile ~60 modules (~40 ms). Compile once, as an install would.
    import compileall

    compileall.compile_dir(str(HERE.parent / "incident_tui"), quiet=1)

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        store = home / "store.jsonl"
        write_store(store, incidents=20, events=10_000)
        # A clean config and data dir: nobody's own settings or themes change the figure.
        env = {
            "INCIDENT_TUI_CONFIG": str(home / "config.toml"),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_DATA_HOME": str(home / "data"),
            "TERM": os.environ.get("TERM", "xterm-256color"),
        }
        minimal = [sys.executable, str(HERE / "minimal_app.py")]
        app = [app_bin, "--store", str(store), "--user", "bench"]
        print(f"time to first paint via a pty; store: 20 incidents, 10000 events; {a.runs} runs x {a.rounds} rounds")
        print(f"load average {os.getloadavg()[0]:.2f} at start (2 cores shared: busy minutes skew every figure)")
        print(f"{'size':>7} {'minimal ms':>11} {'app first paint':>16} {'ratio':>6} {'app data':>9} {'ratio':>6}")
        for cols, rows in sizes:
            base: list[float] = []
            chrome: list[float] = []
            data: list[float] = []
            for _ in range(a.rounds):
                base += timed(minimal, "minimal app ready", (cols, rows), a.runs, env)
                chrome += timed(app, a.chrome_marker, (cols, rows), a.runs, env)
                data += timed(app, a.data_marker, (cols, rows), a.runs, env)
            b, c, d = (statistics.median(x) if x else float("nan") for x in (base, chrome, data))
            ratios = (("first", c / b), ("data", d / b))
            verdicts = ", ".join(f"{what} {'met' if r <= TARGET_RATIO else 'MISSED'}" for what, r in ratios)
            timeouts = a.runs * a.rounds * 3 - len(base) - len(chrome) - len(data)
            figures = f"{cols:>3}x{rows:<3} {b:>11.0f} {c:>16.0f} {c / b:>5.2f}x {d:>9.0f} {d / b:>5.2f}x"
            late = f" ({timeouts} runs timed out)" if timeouts else ""
            print(f"{figures}  target <= {TARGET_RATIO}x: {verdicts}{late}")
        print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
