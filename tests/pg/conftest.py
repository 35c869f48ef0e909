from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from server.conftest import free_port, wait_until

from .cluster import Cluster


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every PostgreSQL test on one xdist worker: one cluster (initdb, start) per run, not per worker."""
    for item in items:
        if item.nodeid.startswith("tests/pg/"):
            item.add_marker(pytest.mark.xdist_group("pg"))


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    cluster = Cluster()
    yield cluster
    cluster.destroy()


@pytest.fixture
def pg_dsn(pg_cluster: Cluster) -> str:
    """A fresh, empty database on the session's server."""
    return pg_cluster.create_db()


class Replica:
    """`incident-tui serve --database DSN` as a child process on a free loopback port."""

    def __init__(self, dsn: str, tmp: Path, port: int = 0) -> None:
        self.dsn = dsn
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.tmp = tmp
        self.log: list[str] = []
        self.proc: subprocess.Popen[str] | None = None
        self.start()

    def start(self) -> None:
        args = [sys.executable, "-m", "incident_tui", "--store", str(self.tmp / "unused.jsonl")]
        args += ["serve", "--port", str(self.port), "--database", self.dsn]
        self.proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
        assert self.proc.stderr is not None
        line = self.proc.stderr.readline()
        assert "serving" in line, f"replica did not start: {line!r}"
        assert "postgresql://" in line
        threading.Thread(target=self._drain, args=(self.proc,), daemon=True).start()
        wait_until(lambda: self.health() == 200, 20, "the replica to answer")

    def _drain(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            self.log.append(line)

    def health(self) -> int:
        try:
            return httpx.get(f"{self.url}/api/v1/health", timeout=2).status_code
        except httpx.HTTPError:
            return 0

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(5)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[Callable[..., Replica]]:
    made: list[Replica] = []

    def start(dsn: str, port: int = 0) -> Replica:
        r = Replica(dsn, tmp_path, port)
        made.append(r)
        return r

    yield start
    for r in made:
        r.stop()
