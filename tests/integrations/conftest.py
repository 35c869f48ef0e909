"""Fixtures for SPEC 11: a recording receiver, and `incident-tui serve` as a child process
with a config file of [[notify]] / [[alerts.rule]] tables (killable and restartable)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .receiver import Receiver

TOKEN = "tok-alertmanager-1"
TOKENS = f"alertmanager {TOKEN}\nalice tok-alice-0123456789\n"
FAST = """
[delivery]
timeout = 0.5
backoff = 0.05
backoff_max = 0.4
reminder_every = 0.2
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = pred()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.01)


class Serve:
    """`incident-tui serve` over a store file with a config file; same port across restarts."""

    def __init__(self, tmp: Path, config: str) -> None:
        self.store = tmp / "store.jsonl"
        self.config = tmp / "config.toml"
        self.config.write_text(config)
        self.tokens = tmp / "tokens"
        self.tokens.write_text(TOKENS)
        self.tokens.chmod(0o600)  # serve refuses a token file others can read
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api = f"{self.url}/api/v1"
        self.log: list[str] = []
        self.proc: subprocess.Popen[str] | None = None
        self.client = httpx.Client(headers={"Authorization": "Bearer tok-alice-0123456789"}, timeout=10)
        self.start()

    def start(self) -> None:
        env = dict(os.environ, INCIDENT_TUI_CONFIG=str(self.config))
        args = [sys.executable, "-m", "incident_tui", "--store", str(self.store), "serve"]
        args += ["--port", str(self.port), "--token-file", str(self.tokens)]
        self.proc = subprocess.Popen(args, env=env, stderr=subprocess.PIPE, text=True)
        line = self.proc.stderr.readline() if self.proc.stderr else ""
        assert "serving" in line, (
            f"server did not start: {line!r} {self.proc.stderr.read() if self.proc.stderr else ''}"
        )
        threading.Thread(target=self._drain, args=(self.proc,), daemon=True).start()

        def healthy() -> bool:
            try:
                return self.client.get(f"{self.api}/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, 20, "the server to answer")

    def _drain(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            self.log.append(line)

    def post(self, *events: dict[str, Any]) -> list[int]:
        r = self.client.post(f"{self.api}/events", json={"events": list(events)})
        assert r.status_code == 200, r.text
        return r.json()["seqs"]

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.client.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[[str], Serve]]:
    started: list[Serve] = []

    def start(config: str) -> Serve:
        s = Serve(tmp_path, config)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()
