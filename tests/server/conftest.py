"""Real servers on free loopback ports and real httpx clients; nothing is mocked.

`thread_server` runs the app with uvicorn in a thread of the test process (for fault
injection and any store); `proc_server` runs `incident-tui serve` as a child process
over a JSON store file, so it can be SIGKILLed and started again on the same port.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from _procs import ServeProcess, free_port, wait_until

from incident_tui.server import Tokens, create_app
from incident_tui.server.conn import guarded_protocol
from incident_tui.server.guard import HostPolicy
from incident_tui.store.base import Store
from incident_tui.store.jsonfile import JsonStore
from incident_tui.store.memory import MemoryStore
from incident_tui.store.remote import RemoteStore

from .faults import Faults


class ThreadServer:
    def __init__(
        self,
        store: Store,
        tokens: Tokens | None = None,
        port: int = 0,
        hosts: HostPolicy | None = None,
        **faults: float,
    ) -> None:
        self.store = store
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = create_app(store, tokens, ping_interval=faults.pop("ping_interval", 15.0), hosts=hosts)
        limits = {k: faults.pop(k) for k in ("header_timeout", "max_connections", "stall_timeout") if k in faults}
        self.faults = Faults(self.app, **faults) if faults else None  # type: ignore[arg-type]
        self.limits = self.app.state.limits
        self.protocol = guarded_protocol(counters=self.limits, **limits)  # type: ignore[arg-type]
        cfg = uvicorn.Config(
            self.faults or self.app,
            http=self.protocol,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=1,
        )
        self.server = uvicorn.Server(cfg)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        wait_until(lambda: self.server.started, 10, "the server to start")

    def stop(self) -> None:
        self.app.state.hub.close()
        self.server.should_exit = True
        self.thread.join(5)


class ProcServer(ServeProcess):
    """`incident-tui serve` over a JSON store file, killable and restartable on its port."""

    stop_timeout = 5.0

    def __init__(self, store_path: Path, token_file: Path | None = None, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self.store_path = store_path
        self.token_file = token_file
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.start()

    def args(self) -> list[str]:
        args = ["--store", str(self.store_path), "serve", "--port", str(self.port)]
        return args + (["--token-file", str(self.token_file)] if self.token_file else [])

    def started(self, head: list[str]) -> None:
        def healthy() -> bool:
            try:
                return httpx.get(f"{self.url}/api/v1/health", timeout=1, headers=self._auth()).status_code < 500
            except httpx.HTTPError:
                return False

        wait_until(healthy, 10, "the server to answer")

    def _auth(self) -> dict[str, str]:
        if not self.token_file:
            return {}
        first = next(ln for ln in self.token_file.read_text().splitlines() if ln.strip() and not ln.startswith("#"))
        return {"Authorization": f"Bearer {first.split()[1]}"}


@pytest.fixture
def thread_server() -> Iterator[Callable[..., ThreadServer]]:
    servers: list[ThreadServer] = []

    def start(
        store: Store | None = None,
        tokens: Tokens | None = None,
        port: int = 0,
        hosts: HostPolicy | None = None,
        **faults: float,
    ) -> ThreadServer:
        s = ThreadServer(store if store is not None else MemoryStore(), tokens, port, hosts, **faults)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()


@pytest.fixture
def server(thread_server: Callable[..., ThreadServer], tmp_path: Path) -> ThreadServer:
    """A plain server over a JSON store file, no token."""
    return thread_server(JsonStore(tmp_path / "server.jsonl"))


@pytest.fixture
def proc_server(tmp_path: Path) -> Iterator[Callable[..., ProcServer]]:
    procs: list[ProcServer] = []

    def start(store_path: Path | None = None, token_file: Path | None = None) -> ProcServer:
        p = ProcServer(store_path or tmp_path / "served.jsonl", token_file)
        procs.append(p)
        return p

    yield start
    for p in procs:
        p.stop()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Callable[..., RemoteStore]]:
    """RemoteStores with their own data dirs (outbox, log cache), closed at the end."""
    made: list[RemoteStore] = []

    def make(url: str, user: str = "alice", token: str | None = None, **kw: Any) -> RemoteStore:
        c = RemoteStore(url, token=token, user=user, data_dir=tmp_path / f"data-{user}", **kw)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture
def cli(tmp_path: Path, in_process) -> Callable[..., subprocess.CompletedProcess[str]]:
    """`incident-tui` in this process (`main(argv)`); data dir per user under tmp_path."""

    def run(*args: str, user: str = "alice", env: dict[str, str] | None = None, timeout: float = 30):
        e = {"INCIDENT_TUI_USER": user, "XDG_DATA_HOME": str(tmp_path / f"xdg-{user}"), **(env or {})}
        return in_process(args, e)

    return run
