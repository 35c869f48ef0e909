"""What other people typed never acts on the terminal: the bytes the real app writes to a
real pty (not a screenshot, which cannot show an escape sequence) and the CLI's output."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from incident_tui.cli import main
from incident_tui.domain.commands import declare_event
from incident_tui.domain.events import new_event
from incident_tui.store.jsonfile import JsonStore

from .conftest import FIXED_NOW

# Each payload would act on a terminal if written raw: set the window title, write the
# clipboard, a one-byte CSI, reorder the line (bidi), clear the screen.
PAYLOADS = {
    "role": "\x1b]0;PWNROLE\x07",
    "role2": "\x9b2JPWNCSI",
    "user": "\u202ePWNBIDI",
    "author": "\x1b]52;c;UFdORUQ=\x07PWNCLIP",
    "title": "\x1b[2JPWNTITLE",
}
CLI_USER = "\x1b]0;PWNUSER\x07"
RAW = [b"\x1b]0;PWN", b"\x1b]52;", b"\xc2\x9b", "\u202e".encode(), b"\x1b[2JPWN", b"\x07PWN"]
ANSI = re.compile(
    rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78cDEHMNOZ]"
)


def seed(path: Path) -> str:
    """An incident whose names an older writer stored unchecked (today's doors refuse them)."""
    at = FIXED_NOW - timedelta(minutes=5)
    d = declare_event("checkout " + PAYLOADS["title"], "alice", "SEV2", at=at)
    inc = d.incident
    events = [
        d,
        new_event(inc, "role.assigned", "alice", {"role": PAYLOADS["role"], "user": "bob"}, at),
        new_event(inc, "role.assigned", "alice", {"role": PAYLOADS["role2"], "user": PAYLOADS["user"]}, at),
        new_event(inc, "role.assigned", "alice", {"role": "commander", "user": PAYLOADS["user"]}, at),
        new_event(inc, "note", PAYLOADS["author"], {"text": "from " + PAYLOADS["author"]}, at),
    ]
    JsonStore(path).close()
    with open(path, "ab") as f:
        for seq, e in enumerate(events, 1):
            f.write(json.dumps(replace(e, seq=seq).to_dict()).encode() + b"\n")
    return inc


class Pty:
    def __init__(self, argv: list[str], env: dict[str, str], cols: int = 140, rows: int = 40) -> None:
        self.rows, self.cols = rows, cols
        pid, fd = pty.fork()
        if pid == 0:
            os.environ.clear()
            os.environ.update(env)
            os.execv(argv[0], argv)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.raw = bytearray()

    def pump(self, timeout: float) -> None:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if ready:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                return
            if b"\x1b[6n" in chunk:  # answer the queries a terminal would
                os.write(self.fd, f"\x1b[{self.rows};{self.cols}R".encode())
            if b"\x1b[c" in chunk:
                os.write(self.fd, b"\x1b[?62;c")
            self.raw += chunk

    def plain(self) -> bytes:
        return ANSI.sub(b"", bytes(self.raw))

    def wait_for(self, text: str, timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        while text.encode() not in self.plain():
            assert time.monotonic() < end, f"{text!r} never reached the terminal"
            self.pump(0.1)

    def close(self) -> None:
        try:
            os.write(self.fd, b"\x11")  # ctrl+q
            end = time.monotonic() + 10
            while time.monotonic() < end and not os.waitpid(self.pid, os.WNOHANG)[0]:
                self.pump(0.05)
            else:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
        except (OSError, ChildProcessError):
            pass
        os.close(self.fd)


def test_hostile_role_and_user_names_never_reach_the_terminal_raw(tmp_path: Path) -> None:
    store = tmp_path / "war.jsonl"
    seed(store)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TERM": "xterm-256color",
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    app = Pty([sys.executable, "-m", "incident_tui", "--store", str(store), "--user", CLI_USER], env)
    try:
        app.wait_for("PWNROLE")  # the dashboard of the only active incident, roles pane shown
        app.wait_for("PWNCSI")
        app.wait_for("PWNBIDI")
        os.write(app.fd, b"\x1bOQ")  # F2: the list, where --user is shown ("you are ...")
        app.wait_for("PWNUSER")
        app.pump(0.5)
    finally:
        app.close()
    out = bytes(app.raw)
    for raw in RAW:
        assert raw not in out, f"{raw!r} reached the terminal"
    plain = app.plain().decode(errors="replace")
    assert "␛]0;PWNROLE␇" in plain  # shown as visible symbols, not obeyed
    assert "<U+202E>PWNBIDI" in plain


def test_json_output_escapes_what_a_terminal_would_obey(tmp_path: Path, capsys, monkeypatch) -> None:
    store = tmp_path / "war.jsonl"
    seed(store)
    monkeypatch.setenv("INCIDENT_TUI_STORE", str(store))
    monkeypatch.setenv("INCIDENT_TUI_USER", "carol")
    hostile = "x \x7f \x85 \x9b \u2028 \u2029 \u202e \u2066 \x1b end"
    assert main(["log", "1", hostile]) == 0
    capsys.readouterr()
    for argv in (
        ["events", "--json"],
        ["show", "1", "--json"],
        ["list", "--json"],
        ["snapshot", "1", "--format", "json"],
    ):
        assert main(argv) == 0
        out = capsys.readouterr().out
        assert not re.search(
            "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]", out
        ), argv
        for line in out.splitlines() if argv[0] == "events" else [out]:
            json.loads(line)  # still JSON, the same values
    assert main(["events", "--json"]) == 0
    last = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert last["data"]["text"] == hostile  # escaped on the wire, the same string when parsed


def test_error_messages_on_stderr_are_one_inert_line(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("INCIDENT_TUI_STORE", str(tmp_path / "war.jsonl"))
    monkeypatch.setenv("INCIDENT_TUI_USER", "carol")
    assert main(["declare", "db down"]) == 0
    capsys.readouterr()
    for argv in (
        ["log", "1", "/assign sme \x1b]0;PWN\x07"],
        ["log", "1", "/phase \x9b2J\u202e"],
        ["show", "\x1b]52;c;UFdO\x07"],
        ["--user", "\x1b[2J\u202e", "log", "1", "hello"],
    ):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]", err), (argv, err)
