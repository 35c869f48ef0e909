"""`incident-tui migrate` between a store file and PostgreSQL, and back, verified."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from incident_tui.cli import main
from incident_tui.domain.events import new_event
from incident_tui.store.jsonfile import JsonStore
from incident_tui.store.migrate import MigrationError, migrate
from incident_tui.store.postgres import PostgresStore


def _demo_store(path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "incident_tui", "--store", str(path), "demo"], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    with JsonStore(path) as s:  # hostile text survives the trip byte for byte
        inc = s.read()[0].incident
        s.append([new_event(inc, "note", "mallory", {"text": '\x1b[31m\u202e \\u0000 \x00 "q" ☃ 𝄞', "tags": ["x"]})])


def test_file_to_postgres_and_back_keeps_every_byte(tmp_path: Path, pg_dsn: str, capsys) -> None:
    src = tmp_path / "war.jsonl"
    _demo_store(src)
    assert main(["migrate", "--from", str(src), "--to", pg_dsn]) == 0
    out = capsys.readouterr().out
    with JsonStore(src) as s:
        n = s.latest_seq()
        original = s.read()
    assert f"migrated {n} event(s)" in out and f"verified {n}" in out
    back = tmp_path / "back.jsonl"
    assert main(["migrate", "--from", pg_dsn, "--to", str(back)]) == 0
    with JsonStore(back) as s:
        assert [e.to_dict() for e in s.read()] == [e.to_dict() for e in original]
    # The data lines of the two files are the same bytes, but for the all-or-none mark a
    # multi-event append puts on all its lines but the last (`"more":1`, store/jsonfile.py):
    # the copy back is appended in chunks, which are marked where the original appends were not.
    unmark = lambda raw: [line.replace(b',"more":1', b"", 1) for line in raw.splitlines()[1:]]  # noqa: E731
    assert unmark(src.read_bytes()) == unmark(back.read_bytes())


def test_an_interrupted_migration_resumes_and_a_foreign_destination_is_refused(tmp_path: Path, pg_dsn: str) -> None:
    src_path = tmp_path / "war.jsonl"
    _demo_store(src_path)
    with JsonStore(src_path) as src, PostgresStore(pg_dsn) as dst:
        dst.append(src.read(0, 10))  # what an interrupted run left
        done = migrate(src, dst)
        assert done.kept == 10 and done.copied == src.latest_seq() - 10 and done.verified == src.latest_seq()
    other = tmp_path / "other.jsonl"
    _demo_store(other)  # the same story with other ids
    with (
        JsonStore(other) as foreign,
        PostgresStore(pg_dsn) as dst,
        pytest.raises(MigrationError, match="empty destination"),
    ):
        migrate(foreign, dst)


def test_migrate_errors_are_one_line(tmp_path: Path, pg_dsn: str, capsys) -> None:
    assert main(["migrate", "--from", str(tmp_path / "a.jsonl"), "--to", str(tmp_path / "a.jsonl")]) == 2
    bad = pg_dsn.replace("/t_", "/nosuch_")
    assert main(["migrate", "--from", str(tmp_path / "a.jsonl"), "--to", bad]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("incident-tui: database unavailable:")
