"""Real SSH: `incident-tui serve --ssh-port` as a child process, real keys, real clients.

`SshServer` runs the server over a JSON store file on free loopback ports (port 0: it
prints the ports it got). `Term` is an asyncssh client session with a terminal: a pyte
screen fed with what the app draws, and the answers a real terminal gives to the app's
queries. Everything waits on conditions (text on the screen, a line in the server's log),
never on fixed pauses.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncssh
import httpx
import pyte
import pytest
from _procs import DEADLINE, ServeProcess, async_wait_until


class SshServer(ServeProcess):
    ready = r"ssh host key"
    stop_timeout = 15.0

    def __init__(self, root: Path, *extra: str, token_file: Path | None = None) -> None:
        super().__init__(
            {
                "XDG_DATA_HOME": str(root / "xdg-data"),
                "XDG_CONFIG_HOME": str(root / "xdg-config"),
                "INCIDENT_TUI_CONFIG": str(root / "config.toml"),
                "TZ": "UTC",
            }
        )
        for var in ("STORE", "REMOTE", "TOKEN", "USER", "THEME", "RUNBOOKS"):
            self.env.pop(f"INCIDENT_TUI_{var}", None)
        self.root = root
        self.keys = root / "keys"
        self.keys.mkdir(exist_ok=True)
        self.store = root / "war.jsonl"
        self.data = root / "xdg-data"
        self.extra = extra
        self.token_file = token_file
        self.start()

    def args(self) -> list[str]:
        args = ["--store", str(self.store), "serve", "--port", "0"]
        args += ["--ssh-port", "0", "--ssh-keys", str(self.keys), *self.extra]
        return args + (["--token-file", str(self.token_file)] if self.token_file else [])

    def started(self, head: list[str]) -> None:
        text = "".join(head)
        self.http_port = int(re.search(r"http://127\.0\.0\.1:(\d+)/api/v1", text).group(1))  # type: ignore[union-attr]
        self.port = int(re.search(r"ssh on 127\.0\.0\.1:(\d+)", text).group(1))  # type: ignore[union-attr]
        self.fingerprint = re.search(r"ssh host key (SHA256:\S+)", text).group(1)  # type: ignore[union-attr]
        self.api = f"http://127.0.0.1:{self.http_port}/api/v1"

    async def wait_log(self, pattern: str, timeout: float = DEADLINE) -> str:
        return await async_wait_until(lambda: self.logged(pattern), timeout, f"server log {pattern!r}")

    def add_key(self, person: str) -> asyncssh.SSHKey:
        """A new ed25519 key for `person`, added to the folder; its private file for OpenSSH beside it."""
        key = asyncssh.generate_private_key("ssh-ed25519", comment=person)
        pub = self.keys / f"{person}.pub"
        with pub.open("ab") as f:
            f.write(key.export_public_key("openssh"))
        private = self.root / f"id_{person}"
        private.write_bytes(key.export_private_key("openssh"))
        private.chmod(0o600)
        return key

    def events(self, token: str | None = None) -> list[dict[str, Any]]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.get(f"{self.api}/events", headers=headers, timeout=10).json()["events"]


def declare(server: SshServer, title: str, author: str = "setup") -> str:
    """An incident declared through the API, so a session opens straight on its dashboard."""
    from incident_tui.domain.commands import declare_event

    event = declare_event(title, author, "SEV2", "")
    r = httpx.post(f"{server.api}/events", json={"events": [event.to_dict()]}, timeout=10)
    assert r.status_code == 200, r.text
    return event.incident


class Term:
    """One SSH session with a terminal, drawn on a pyte screen."""

    def __init__(self, conn: asyncssh.SSHClientConnection, proc: asyncssh.SSHClientProcess, cols: int, rows: int):
        self.conn = conn
        self.proc = proc
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = bytearray()
        self.closed = asyncio.Event()
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        try:
            while True:
                data = await self.proc.stdout.read(65536)
                if not data:
                    break
                self.raw += data
                # Answer what a real terminal answers (cursor position, device attributes).
                if b"\x1b[6n" in data:
                    self.proc.stdin.write(f"\x1b[{self.screen.lines};{self.screen.columns}R".encode())
                if b"\x1b[c" in data:
                    self.proc.stdin.write(b"\x1b[?62;c")
                self.stream.feed(data)
        except (asyncssh.Error, OSError):
            pass
        finally:
            self.closed.set()

    def text(self) -> str:
        return "\n".join(self.screen.display)

    async def wait_for(self, needle: str, timeout: float = DEADLINE) -> None:
        try:
            await async_wait_until(lambda: needle in self.text(), timeout, f"{needle!r} on the screen")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the screen:\n{self.text()}") from None

    def send(self, keys: str | bytes) -> None:
        self.proc.stdin.write(keys.encode() if isinstance(keys, str) else keys)

    def resize(self, cols: int, rows: int) -> None:
        self.screen.resize(rows, cols)
        self.proc.change_terminal_size(cols, rows)

    async def close(self) -> None:
        self.conn.close()
        await self.conn.wait_closed()
        self._reader.cancel()


async def connect(
    server: SshServer, key: asyncssh.SSHKey | list[asyncssh.SSHKey], username: str = "someone", **kw: Any
) -> asyncssh.SSHClientConnection:
    keys = key if isinstance(key, list) else [key]
    return await asyncssh.connect(
        "127.0.0.1",
        server.port,
        username=username,
        client_keys=keys,
        known_hosts=None,
        agent_path=None,
        config=None,
        **kw,
    )


async def open_term(
    server: SshServer,
    key: asyncssh.SSHKey,
    username: str = "someone",
    cols: int = 100,
    rows: int = 30,
    term_type: str = "xterm-256color",
) -> Term:
    conn = await connect(server, key, username)
    proc = await conn.create_process(term_type=term_type, term_size=(cols, rows), encoding=None)
    return Term(conn, proc, cols, rows)


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture
def ssh_server(tmp_path: Path) -> Iterator[SshServer]:
    """A server of the test's own: its store, keys folder and data dir start empty."""
    s = SshServer(tmp_path)
    yield s
    s.stop()


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[Callable[..., SshServer]]:
    made: list[SshServer] = []

    def make(*extra: str, **kw: Any) -> SshServer:
        s = SshServer(tmp_path, *extra, **kw)
        made.append(s)
        return s

    yield make
    for s in made:
        s.stop()


class OpenSsh:
    """The OpenSSH client in a pty of its own, as a person would run it."""

    def __init__(
        self,
        server: SshServer,
        *args: str,
        key: str | None = None,
        cols: int = 100,
        rows: int = 30,
        env: dict[str, str] | None = None,
    ) -> None:
        import pty

        self.cols, self.rows = cols, rows
        config = (
            server.root / "ssh_config"
        )  # empty: nobody's own settings (not /dev/null: a test elsewhere may replace it)
        config.touch()
        base = [
            "ssh",
            "-F",
            str(config),
            "-p",
            str(server.port),
            "-o",
            "StrictHostKeyChecking=accept-new",
            "-o",
            f"UserKnownHostsFile={server.root / 'known_hosts'}",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=20",
        ]
        if key:
            base += ["-i", str(server.root / f"id_{key}")]
        pid, fd = pty.fork()
        if pid == 0:  # pragma: no cover - the child becomes ssh
            os.environ.update(env or {})
            os.environ["TERM"] = "xterm-256color"
            os.execvp("ssh", [*base, *args])
        import fcntl
        import struct
        import termios

        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.pid, self.fd = pid, fd
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = bytearray()
        self.status: int | None = None

    def _pump(self, timeout: float) -> bool:
        import select

        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:
            return False
        if not chunk:
            return False
        if b"\x1b[6n" in chunk:
            os.write(self.fd, f"\x1b[{self.rows};{self.cols}R".encode())
        if b"\x1b[c" in chunk:
            os.write(self.fd, b"\x1b[?62;c")
        self.raw += chunk
        self.stream.feed(chunk)
        return True

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def wait_for(self, needle: str, timeout: float = DEADLINE) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text():
            if time.monotonic() > deadline or not self._pump(0.05):
                if needle in self.text():
                    return
                raise AssertionError(f"{needle!r} not on the screen; it shows:\n{self.text()}")

    def send(self, keys: str | bytes) -> None:
        os.write(self.fd, keys.encode() if isinstance(keys, str) else keys)

    def wait_exit(self, timeout: float = DEADLINE) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._pump(0.05)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                while self._pump(0.05):  # what it printed last
                    if not select_ready(self.fd):
                        break
                os.close(self.fd)
                self.status = os.waitstatus_to_exitcode(status)
                return self.status
        raise AssertionError(f"ssh did not exit; the screen:\n{self.text()}")

    def kill(self) -> None:
        if self.status is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.status = -9


def select_ready(fd: int) -> bool:
    import select

    try:
        return bool(select.select([fd], [], [], 0.05)[0])
    except (OSError, ValueError):
        return False
