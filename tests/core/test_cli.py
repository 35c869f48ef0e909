"""The CLI as a user runs it on a real store file: `main(argv)` in-process, and the real
program in a few smoke tests (two shells at once among them)."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .conftest import CliRunner


def test_declare_log_and_read_back(cli: CliRunner) -> None:
    r = cli("declare", "Checkout", "502s", "--severity", "sev2", "--summary", "EU only")
    assert (r.returncode, r.stdout.strip()) == (0, "INC-1")
    assert cli("log", "INC-1", "/assign", "commander", "alice").returncode == 0
    assert cli("log", "1", "pool", "exhausted", "#db", user="bob").returncode == 0
    shown = json.loads(cli("show", "1", "--json").stdout)
    assert shown["ref"] == "INC-1" and shown["severity"] == "SEV2" and shown["summary"] == "EU only"
    assert shown["roles"] == {"commander": ["alice"]} and shown["commander"] == "alice"
    events = [json.loads(line) for line in cli("events", "INC-1", "--json").stdout.splitlines()]
    assert [e["kind"] for e in events] == ["incident.declared", "role.assigned", "note"]
    assert events[2]["author"] == "bob" and events[2]["data"]["tags"] == ["db"]
    assert [e["seq"] for e in events] == [1, 2, 3]
    text = cli("show", "INC-1").stdout
    assert "commander  alice" in text and "SEV2" in text


def test_the_program_itself_declares_logs_and_shows(cli_process: CliRunner) -> None:
    """The smoke test of the write and read verbs as real processes (the rest run in-process)."""
    r = cli_process("declare", "Checkout", "502s", "--severity", "sev2")
    assert (r.returncode, r.stdout.strip(), r.stderr) == (0, "INC-1", "")
    assert cli_process("log", "INC-1", "/assign", "commander", "alice").returncode == 0
    shown = json.loads(cli_process("show", "1", "--json").stdout)
    assert shown["commander"] == "alice" and shown["severity"] == "SEV2"
    bad = cli_process("log", "1", "/frobnicate")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1


def test_every_kind_of_line_from_two_shells_at_once(cli: CliRunner, cli_process: CliRunner) -> None:
    assert cli("declare", "DB down").returncode == 0
    lines = [
        "plain note #tag",
        "@00:01 backdated note",
        "/decision fail over",
        "/action failing over",
        "/obs replica healthy",
        "/hypothesis disk full",
        "/update investigating",
        "/phase triage",
        "/assign scribe bob",
        "/title DB down in EU",
        "/summary primary unreachable",
        "/impact writes fail",
        "/category availability",
        "/detected alert fired",
        "/followup add disk alert @carol due:2026-12-01",
        "/rootcause disk filled by logs",
        "/why logs not rotated",
    ]

    def run(args: tuple[str, str]) -> int:
        who, line = args
        return cli_process("log", "INC-1", line, user=who).returncode

    # Two shells at once (real processes racing on the store), then the rest in-process.
    work = [("alice" if i % 2 else "bob", line) for i, line in enumerate(lines)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        assert list(pool.map(run, work[:6])) == [0] * 6
    for who, line in work[6:]:
        assert cli("log", "INC-1", line, user=who).returncode == 0, line
    events = [json.loads(x) for x in cli("events", "--json").stdout.splitlines()]
    assert [e["seq"] for e in events] == list(range(1, len(lines) + 2))
    assert {e["author"] for e in events[1:]} == {"alice", "bob"}
    for follow_up in ("/confirm H1 yes", "/done F1", "/sev 1", "/check 1", "/resolve"):
        assert cli("log", "1", follow_up).returncode == 0, follow_up
    state = json.loads(cli("show", "1", "--json").stdout)
    assert state["phase"] == "resolved" and state["severity"] == "SEV1"
    assert state["hypotheses"][0]["status"] == "confirmed" and state["followups"][0]["done"]
    assert cli("list").stdout.startswith("no active incidents")
    assert "INC-1" in cli("list", "--all").stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (("log", "INC-9", "hello"), "unknown incident 'INC-9'"),
        (("log", "1", "/frobnicate", "x"), "unknown command /frobnicate"),
        (("log", "1", "/sev", "9"), "unknown severity"),
        (("log", "1", "/phase", "done"), "unknown phase"),
        (("log", "1", "/assign", "king", "bob"), "unknown role"),
        (("declare", "x", "--severity", "SEV0"), "unknown severity"),
        (("show", "nope"), "unknown incident"),
        (("events", "--since", "-1"), "--since"),
        (("list", "--bogus"), "unrecognized arguments"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(cli: CliRunner, store_path: Path, args, message) -> None:
    assert cli("declare", "DB down").returncode == 0
    before = store_path.read_bytes()
    r = cli(*args)
    assert r.returncode == 2, r.stderr
    assert message in r.stderr and r.stderr.count("\n") == 1 and r.stdout == ""
    assert store_path.read_bytes() == before


def test_a_corrupt_store_is_exit_1_naming_file_and_line(cli: CliRunner, store_path: Path) -> None:
    assert cli("declare", "DB down").returncode == 0
    content = store_path.read_bytes() + b"{oops}\n"
    store_path.write_bytes(content)
    for args in (("list",), ("log", "1", "hello")):
        r = cli(*args)
        assert r.returncode == 1 and f"{store_path}:3:" in r.stderr and r.stderr.count("\n") == 1
        assert store_path.read_bytes() == content


def test_demo_writes_a_realistic_incident(cli: CliRunner) -> None:
    assert cli("demo").stdout.strip() == "INC-1"
    s = json.loads(cli("show", "1", "--json").stdout)
    assert s["phase"] == "resolved" and s["severity"] == "SEV1"
    assert [h["status"] for h in s["hypotheses"]] == ["rejected", "confirmed"]
    assert len(s["followups"]) == 4 and s["rootcause"] and len(s["whys"]) == 5
    assert set(s["roles"]) == {"commander", "scribe", "comms", "sme"}
    kinds = {json.loads(x)["kind"] for x in cli("events", "--json").stdout.splitlines()}
    assert {"decision", "action", "update", "phase.set", "detected", "checklist.set"} <= kinds
    assert cli("demo", "--until", "triage").stdout.strip() == "INC-2"
    assert json.loads(cli("show", "2", "--json").stdout)["phase"] == "triage"


def test_settings_come_from_flag_then_environment_then_config_file(cli: CliRunner, tmp_path: Path) -> None:
    other = tmp_path / "from-config.jsonl"
    config = Path(os.environ["INCIDENT_TUI_CONFIG"])
    config.write_text(f'store = "{other}"\nuser = "carol"\n')
    assert cli("declare", "from config", store=False, user=None).returncode == 0
    assert cli("log", "1", "env user", store=False).returncode == 0
    assert cli("--user", "dave", "log", "1", "flag user", store=False).returncode == 0
    events = [json.loads(x) for x in cli("events", "--json", store=other).stdout.splitlines()]
    assert [e["author"] for e in events] == ["carol", "alice", "dave"]
    config.write_text("colour = 'red'\n")
    r = cli("list")
    assert r.returncode == 2 and "unknown setting" in r.stderr


def test_a_fifo_named_as_config_runbook_or_token_is_refused_in_one_line_not_waited_on(
    cli_process: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Reading a FIFO blocks until someone writes to it: every verb used to hang on one.
    fifo = tmp_path / "planted.toml"
    os.mkfifo(fifo)
    monkeypatch.setenv("INCIDENT_TUI_CONFIG", str(fifo))
    r = cli_process("list")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "not a regular file" in r.stderr
    books = tmp_path / "books"
    books.mkdir()
    os.mkfifo(books / "triage.toml")
    monkeypatch.setenv("INCIDENT_TUI_CONFIG", str(tmp_path / "none.toml"))
    assert cli_process("declare", "x").returncode == 0
    r = cli_process("--runbooks", str(books), "show", "1")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "not a regular file" in r.stderr
    fifo.chmod(0o600)
    monkeypatch.setenv("INCIDENT_TUI_TOKEN_FILE", str(fifo))
    r = cli_process("--remote", "http://127.0.0.1:9", "list")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "not a regular file" in r.stderr


def test_hostile_text_is_shown_inert_on_the_terminal(cli: CliRunner) -> None:
    cli("declare", "title \x1b]0;pwned\x07 \x1b[2J")
    cli("log", "1", "note \x9b31m \u202eevil")
    out = cli("list").stdout + cli("show", "1").stdout + cli("events").stdout
    assert "\x1b" not in out and "\x9b" not in out and "\u202e" not in out
    assert "␛]0;pwned␇" in out


def test_a_client_token_comes_from_a_private_file_never_a_shared_one(tmp_path, monkeypatch) -> None:
    from incident_tui.config import ConfigError, load_config

    monkeypatch.delenv("INCIDENT_TUI_TOKEN", raising=False)
    monkeypatch.setenv("INCIDENT_TUI_CONFIG", str(tmp_path / "none.toml"))
    token = tmp_path / "token"
    token.write_text("# for the war room\n7d2c0b6f9e1a44c3b8d5\n")
    token.chmod(0o600)
    monkeypatch.setenv("INCIDENT_TUI_TOKEN_FILE", str(token))
    assert load_config().token == "7d2c0b6f9e1a44c3b8d5"
    assert load_config(token="from-the-flag").token == "from-the-flag"
    token.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_config()
