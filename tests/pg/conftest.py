from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from _procs import ServeProcess, free_port, wait_until

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


class Replica(ServeProcess):
    """`incident-tui serve --database DSN` as a child process on a free loopback port."""

    def __init__(self, dsn: str, tmp: Path, port: int = 0) -> None:
        super().__init__()
        self.dsn = dsn
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.tmp = tmp
        self.start()

    def args(self) -> list[str]:
        return ["--store", str(self.tmp / "unused.jsonl"), "serve", "--port", str(self.port), "--database", self.dsn]

    def started(self, head: list[str]) -> None:
        assert "postgresql://" in head[-1]
        wait_until(lambda: self.health() == 200, 20, "the replica to answer")

    def health(self) -> int:
        try:
            return httpx.get(f"{self.url}/api/v1/health", timeout=2).status_code
        except httpx.HTTPError:
            return 0


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
