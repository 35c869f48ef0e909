"""One harness for the tests that run real processes: a free loopback port, waiting on a
condition with a deadline, and `incident-tui serve` as a child process.

Used by the server, PostgreSQL, SSH and integration conftests (each once had its own copy).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

DEADLINE = 30.0  # generous: the suite runs on a loaded 2-core machine, two workers at once


def free_port() -> int:
    """A loopback port nothing listens on now (for a server that must keep its port across a
    restart; one that need not should be given port 0 and say what it got)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(
    pred: Callable[[], Any], timeout: float = DEADLINE, what: str = "condition", interval: float = 0.01
) -> Any:
    """Poll `pred` until it answers something true (returned) or fail at the deadline (for
    states no API can be awaited on, like another process's)."""
    deadline = time.monotonic() + timeout
    while True:
        got = pred()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


async def async_wait_until(
    pred: Callable[[], Any], timeout: float = DEADLINE, what: str = "condition", interval: float = 0.02
) -> Any:
    """`wait_until` for a test running in an event loop: the loop keeps running meanwhile."""
    deadline = time.monotonic() + timeout
    while True:
        got = pred()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)


class ServeProcess:
    """`incident-tui ARGS` (a `serve`) as a child process.

    `start()` runs it and reads its stderr until a line matches `ready` (the server says
    where it listens once it does), then keeps reading it in a thread into `log` (a full
    pipe would stop the server at its next warning). `kill()` is a crash (SIGKILL), `stop()`
    an operator's Ctrl-C (SIGINT, then SIGKILL after `stop_timeout`); `start()` again runs
    the same command (same port, same store). Subclasses build the command in `args()` and
    wait for what they need in `started(head)`.
    """

    ready = r"serving"
    stop_timeout = 10.0

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.env = dict(os.environ, **(env or {}))
        self.proc: subprocess.Popen[str] | None = None
        self.log: list[str] = []

    def args(self) -> Sequence[str]:
        raise NotImplementedError

    def started(self, head: list[str]) -> None:
        """Called with the lines up to the ready line: parse ports, wait for health."""

    def start(self) -> None:
        self.log = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "incident_tui", *self.args()], env=self.env, stderr=subprocess.PIPE, text=True
        )
        assert self.proc.stderr is not None
        head: list[str] = []
        rx = re.compile(self.ready)
        while not (head and rx.search(head[-1])):
            line = self.proc.stderr.readline()
            assert line, f"the server did not start: {''.join(head)!r}"
            head.append(line)
        self.log.extend(head)
        threading.Thread(target=self._drain, args=(self.proc,), daemon=True).start()
        self.started(head)

    def _drain(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            self.log.append(line)

    def logged(self, pattern: str) -> str | None:
        """The first line of the server's stderr matching `pattern`, if any yet."""
        rx = re.compile(pattern)
        return next((ln for ln in list(self.log) if rx.search(ln)), None)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
