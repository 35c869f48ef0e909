"""`incident-tui snapshot` and `postmortem` as a user runs them on a real store file: `main(argv)`
in-process, and the real program in one smoke test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from incident_tui.docs import snapshot_document
from incident_tui.domain.checklists import load_runbooks
from incident_tui.store.jsonfile import JsonStore

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "incidents.jsonl"


@pytest.fixture
def run(store_path: Path, in_process) -> Run:
    """`incident-tui --store STORE ARGS` in this process (`main(argv)`)."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return in_process(["--store", str(store_path), *args], {"INCIDENT_TUI_USER": "alice"})

    return run


def test_the_program_itself_writes_both_documents(store_path: Path, tmp_path: Path) -> None:
    """The smoke test of the document verbs as real processes (the rest run in-process)."""
    env = {**os.environ, "INCIDENT_TUI_USER": "alice"}

    def program(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "incident_tui", "--store", str(store_path), *args]
        return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)

    assert program("demo").stdout.strip() == "INC-1"
    out = tmp_path / "pm.md"
    r = program("postmortem", "1", "-o", str(out))
    assert r.returncode == 0 and r.stderr.strip() == str(out)
    assert out.read_text(encoding="utf-8").startswith("# Postmortem: INC-1")
    snap = program("snapshot", "1")
    assert snap.returncode == 0 and "INC-1" in snap.stdout


@pytest.fixture
def demo_store(run: Run, store_path: Path) -> Path:
    assert run("demo").stdout.strip() == "INC-1"
    return store_path


def test_snapshot_json_to_a_file(run: Run, demo_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "handoff.json"
    r = run("snapshot", "1", "--format", "json", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    assert r.stderr.strip() == str(out)  # the path written, so the user can find it
    d = json.loads(out.read_text(encoding="utf-8"))
    assert (d["schema"], d["ref"], d["seq"], d["phase"]) == ("incident-tui/snapshot", "INC-1", 58, "resolved")


def test_snapshot_at_seq_from_the_cli_is_the_as_of_document(run: Run, demo_store: Path) -> None:
    r = run("snapshot", "INC-1", "--at-seq", "29")
    assert r.returncode == 0, r.stderr
    store = JsonStore(demo_store)
    try:
        events = store.read()
    finally:
        store.close()
    expected = snapshot_document(events, events[0].incident, load_runbooks(), events[0].when, "md", 29)
    assert r.stdout == expected
    assert "## Checklist: mitigating (2 of 6 done)" in r.stdout
    # Run again later: an as-of snapshot never changes.
    assert run("snapshot", "INC-1", "--at-seq", "29").stdout == r.stdout


def test_postmortem_to_stdout_and_to_a_file(run: Run, demo_store: Path, tmp_path: Path) -> None:
    r = run("postmortem", "INC-1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("# Postmortem: INC-1 · Checkout failing with 502s for EU customers\n")
    assert "| Time to resolve | 54m | 48m |" in r.stdout
    out = tmp_path / "pm.md"
    assert run("postmortem", "1", "-o", str(out)).returncode == 0
    assert out.read_text(encoding="utf-8").split("\n## ")[1:] == r.stdout.split("\n## ")[1:]


def test_postmortem_json_for_tools(demo_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from incident_tui.cli import main

    assert main(["--store", str(demo_store), "postmortem", "INC-1", "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert (d["schema"], d["version"], d["ref"]) == ("incident-tui/postmortem", 1, "INC-1")
    assert d["metrics"]["from_declaration"]["resolve_seconds"] == 48 * 60
    assert d["metrics"]["from_impact_start"]["resolve_seconds"] == 54 * 60
    assert {"what": "dataloss", "command": "/dataloss TEXT"} in d["missing"]
    assert [m["text"] for m in d["mitigations"]] == ["Rollback complete in eu-west-1 and eu-central-1 #rollback"]
    assert len(d["timeline"]) == 58


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("snapshot", "1", "--at-seq", "99"), "--at-seq 99 is after the latest seq 58"),
        (("snapshot", "1", "--at-seq", "0"), "--at-seq 0 is before INC-1 was declared (seq 1)"),
        (("snapshot", "1", "--at-seq", "-3"), "--at-seq -3 is before INC-1 was declared"),
        (("snapshot", "1", "--at-seq", "ten"), "invalid int value"),
        (("snapshot", "1", "--format", "html"), "invalid choice"),
        (("snapshot", "7"), "unknown incident '7'; known: INC-1"),
        (("postmortem", "INC-9"), "unknown incident 'INC-9'"),
    ],
)
def test_bad_arguments_are_usage_errors_with_one_line(
    run: Run, demo_store: Path, args: tuple[str, ...], message: str
) -> None:
    r = run(*args)
    assert r.returncode == 2
    assert r.stdout == ""
    assert message in r.stderr
    assert r.stderr.count("\n") == 1


def test_unwritable_output_is_a_runtime_failure(run: Run, demo_store: Path, tmp_path: Path) -> None:
    r = run("postmortem", "1", "-o", str(tmp_path / "no" / "such" / "dir" / "pm.md"))
    assert r.returncode == 1
    assert "cannot write" in r.stderr and r.stderr.count("\n") == 1


def test_documents_depend_on_the_domain_only() -> None:
    code = (
        "import sys, incident_tui.docs\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'textual', 'rich', 'httpx', 'starlette', 'uvicorn', 'tinydb'} or m.startswith('incident_tui.store'))\n"
        "print(heavy)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_documents_of_an_indexed_store_are_those_of_its_events(
    run: Run, store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The verbs read only the incident's own rows, in bulk through the store's index (a run
    of consecutive seqs and rows interleaved with another incident's): the same bytes as the
    documents of every event the store holds."""
    from datetime import UTC, datetime

    import incident_tui.cli as cli_module
    from incident_tui.docs import fold_incident, postmortem_document, postmortem_json
    from incident_tui.store import jsonfile
    from incident_tui.store.index import index_path

    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    monkeypatch.setattr(cli_module, "now_utc", lambda: now)
    monkeypatch.setattr(jsonfile, "INDEX_MIN_BYTES", 0)
    assert run("demo").returncode == 0
    assert run("declare", "Second incident", "--severity", "SEV3").stdout.strip() == "INC-2"
    for i in range(30):
        assert run("log", ("INC-1", "INC-2")[i % 3 == 0], f"note {i} #db").returncode == 0
    Path(index_path(store_path)).unlink(missing_ok=True)  # the next open indexes every line
    store = JsonStore(store_path, index_min_bytes=1 << 62)
    try:
        events = store.read()
    finally:
        store.close()
    runbooks = load_runbooks()
    for ref in ("INC-1", "INC-2"):
        declared = [e.incident for e in events if e.kind == "incident.declared"]
        incident = declared[int(ref[-1]) - 1]
        state = fold_incident(events, incident)
        for fmt in ("md", "json"):
            r = run("snapshot", ref, "--format", fmt)
            assert r.returncode == 0, r.stderr
            assert r.stdout == snapshot_document(events, incident, runbooks, now, fmt)
        half = str(len(events) - 20)
        assert run("snapshot", ref, "--at-seq", half).stdout == snapshot_document(
            events, incident, runbooks, now, "md", int(half)
        )
        assert run("postmortem", ref).stdout == postmortem_document(state, runbooks, now)
        assert run("postmortem", ref, "--format", "json").stdout == postmortem_json(state, runbooks, now)
