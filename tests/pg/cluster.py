"""A real PostgreSQL server for the tests, started and stopped by them.

PostgreSQL refuses to run as root, and CI runs as root: the cluster then belongs to the
`postgres` user and every server command runs through `runuser -u postgres --`. It
listens only on a Unix socket in its own temp directory (no TCP port to collide on).
`fsync=off` for tests (they kill servers and replicas, never the machine); benchmarks
keep it on.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg


def pg_bin() -> Path | None:
    override = os.environ.get("INCIDENT_TUI_PG_BIN")
    candidates = [Path(override)] if override else []
    found = shutil.which("pg_ctl")
    if found:
        candidates.append(Path(found).parent)
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for c in candidates:
        if (c / "pg_ctl").exists() and (c / "initdb").exists():
            return c
    return None


class Cluster:
    def __init__(self, fsync: bool = False) -> None:
        self.fsync = fsync
        bin_dir = pg_bin()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found; set INCIDENT_TUI_PG_BIN")
        self.bin = bin_dir
        self.dir = Path(tempfile.mkdtemp(prefix="itui-pg-"))
        self.data = self.dir / "data"
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        self.start()

    def _run(self, tool: str, *args: str) -> None:
        cmd = [str(self.bin / tool), *args]
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, cwd=self.dir, timeout=60)

    def start(self) -> None:
        opts = f"-k {self.dir} -c listen_addresses='' -c max_connections=300"
        if not self.fsync:
            opts += " -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "log"), "-o", opts, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def dsn(self, db: str = "postgres") -> str:
        return f"postgresql://postgres@/{db}?host={self.dir}"

    def create_db(self) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.dsn(name)

    def terminate(self, application_name: str) -> int:
        """Kill every backend of that client name (a lost connection); returns how many."""
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                (application_name,),
            ).fetchall()
        return len(rows)

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)
