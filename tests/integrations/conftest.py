"""Fixtures for SPEC 11: a recording receiver, and `incident-tui serve` as a child process
with a config file of [[notify]] / [[alerts.rule]] tables (killable and restartable)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _procs import ServeProcess, free_port, wait_until

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


class Serve(ServeProcess):
    """`incident-tui serve` over a store file with a config file; same port across restarts."""

    def __init__(self, tmp: Path, config: str) -> None:
        self.store = tmp / "store.jsonl"
        self.config = tmp / "config.toml"
        self.config.write_text(config)
        super().__init__({"INCIDENT_TUI_CONFIG": str(self.config)})
        self.tokens = tmp / "tokens"
        self.tokens.write_text(TOKENS)
        self.tokens.chmod(0o600)  # serve refuses a token file others can read
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api = f"{self.url}/api/v1"
        self.client = httpx.Client(headers={"Authorization": "Bearer tok-alice-0123456789"}, timeout=10)
        self.start()

    def args(self) -> list[str]:
        return ["--store", str(self.store), "serve", "--port", str(self.port), "--token-file", str(self.tokens)]

    def started(self, head: list[str]) -> None:
        def healthy() -> bool:
            try:
                return self.client.get(f"{self.api}/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, 20, "the server to answer")

    def post(self, *events: dict[str, Any]) -> list[int]:
        r = self.client.post(f"{self.api}/events", json={"events": list(events)})
        assert r.status_code == 200, r.text
        return r.json()["seqs"]

    def stop(self) -> None:
        super().stop()
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
