#!/usr/bin/env python3
"""Time to first paint of a terminal program, measured through a real pty.

Copied from ../shared/tools/ttfp.py (the team's pty timer) so bench/ runs on its own; only
re-formatted for ruff, and the pty is drained while the program exits (a program still
drawing, such as a million-row timeline, blocked on a full pty and never quit); the
measurement is unchanged.

usage: ttfp.py [--cols 120 --rows 40 --runs 5 --timeout 20 --quit KEYS --env K=V] --marker TEXT -- CMD...
Prints one line per run and a final 'median_ms=N' line. The clock starts at
fork and stops when TEXT has appeared on the screen stream (escape codes stripped).
"""

import argparse
import fcntl
import os
import pty
import re
import select
import signal
import statistics
import struct
import sys
import termios
import time

ANSI = re.compile(
    rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)"
    rb"|\x1b[()][0-9A-Za-z]|\x1b[=>78cDEHMNOZ]"
)


def one(cmd, marker, cols, rows, timeout, quit_keys, env):
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.update(env)
        os.environ.setdefault("TERM", "xterm-256color")
        os.execvp(cmd[0], cmd)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    t0 = time.perf_counter()
    buf = b""
    found = None
    while time.perf_counter() - t0 < timeout:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            # answer cursor-position / device-attribute queries so apps do not stall
            if b"\x1b[6n" in chunk:
                os.write(fd, f"\x1b[{rows};{cols}R".encode())
            if b"\x1b[c" in chunk:
                os.write(fd, b"\x1b[?62;c")
            plain = ANSI.sub(b"", buf)
            if marker.encode() in plain.replace(b"\r", b"").replace(b"\n", b""):
                found = time.perf_counter() - t0
                break
    try:
        if quit_keys:
            os.write(fd, quit_keys.encode().decode("unicode_escape").encode())
            drain(fd, pid, 0.3)
        os.kill(pid, signal.SIGTERM)
    except OSError:
        pass
    # Keep reading while it exits: a program still drawing blocks on a full pty otherwise.
    if not drain(fd, pid, 10):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
    os.close(fd)
    return found


def drain(fd, pid, seconds):
    """Read and drop the program's output for up to `seconds`; True once it has exited."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return True
        if done:
            return True
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                os.read(fd, 65536)
            except OSError:
                pass
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cols", type=int, default=120)
    ap.add_argument("--rows", type=int, default=40)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--marker", required=True)
    ap.add_argument("--quit", default="")
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    env = dict(e.split("=", 1) for e in a.env)
    times = []
    for i in range(a.runs + 1):
        t = one(cmd, a.marker, a.cols, a.rows, a.timeout, a.quit, env)
        if i == 0:
            continue  # warm-up
        print(f"run {i}: {'timeout' if t is None else f'{t * 1000:.0f} ms'}")
        if t is not None:
            times.append(t * 1000)
    if not times:
        print("median_ms=NA")
        sys.exit(1)
    print(f"median_ms={statistics.median(times):.0f}")


if __name__ == "__main__":
    main()
