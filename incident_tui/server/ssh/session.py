"""One SSH session: the real app in a child process on its own pty, as the session's person.

The child is the same `incident-tui` app a responder would run locally, as a `--remote`
client of this server with a per-session token (credentials.py). It runs in a session of
its own with the pty as its controlling terminal (setsid + TIOCSCTTY): only then does the
kernel deliver SIGWINCH when the client's window changes size, and SIGHUP to its process
group when the pty goes away (even if this server dies). Bytes are pumped by hand, not
with asyncssh's redirect, so that input marks the session active (the idle timeout), a
slow client holds the child back instead of filling memory, and an SSH "signal" or
"break" request from the client never reaches the child.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import re
import signal
import struct
import sys
import termios
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import asyncssh

# The child's first act: take the pty (its stdin) as controlling terminal. It is a session
# leader already (start_new_session); doing this in the child, not in a preexec_fn, keeps
# the fork safe in this multi-threaded server. Then the ordinary entry point, unchanged.
BOOT = (
    "import fcntl, sys, termios\n"
    "fcntl.ioctl(0, termios.TIOCSCTTY, 0)\n"
    "from incident_tui.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)

# What the child may inherit from the server's environment (never INCIDENT_TUI_STORE,
# _TOKEN, _USER or _REMOTE: those are set per session below).
PASS_ENV = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "PYTHONPATH",
    "VIRTUAL_ENV",
    "XDG_CONFIG_HOME",
    "INCIDENT_TUI_CONFIG",
    "INCIDENT_TUI_THEME",
    "INCIDENT_TUI_RUNBOOKS",
    "PYTHONDONTWRITEBYTECODE",
)
# What a client may set (OpenSSH `SetEnv`/`SendEnv`), each checked by a pattern.
CLIENT_ENV = {
    "COLORTERM": re.compile(r"^(truecolor|24bit)$"),
    "NO_COLOR": re.compile(r"^.{0,16}$"),
    "ESCDELAY": re.compile(r"^[0-9]{1,4}$"),
    "INCIDENT_TUI_THEME": re.compile(r"^[A-Za-z0-9_-]{1,40}$"),
}
TERM = re.compile(r"^[A-Za-z0-9._+-]{1,64}$")
HANGUP_GRACE = 5.0  # seconds a hung-up app gets to save its drafts before SIGKILL (it takes ~0.6 s)
READ_CHUNK = 65536


@dataclass(frozen=True)
class ChildSpec:
    """What every session's child shares: the API to use and where people's folders live."""

    api_url: str
    homes: Path  # <homes>/<person>/ is the child's working dir and its XDG_DATA_HOME
    runbooks: Path | None = None
    python: str = sys.executable


def child_env(spec: ChildSpec, person: str, token: str, term: str, client_env: Mapping[str, str]) -> dict[str, str]:
    env = {k: os.environ[k] for k in PASS_ENV if k in os.environ}
    for k, pattern in CLIENT_ENV.items():
        v = client_env.get(k)
        if isinstance(v, str) and pattern.match(v):
            env[k] = v
    home = spec.homes / person
    env.update(
        TERM=term if TERM.match(term) else "xterm-256color",
        INCIDENT_TUI_REMOTE=spec.api_url,
        INCIDENT_TUI_TOKEN=token,
        INCIDENT_TUI_USER=person,
        # Each person's drafts, outbox and log cache apart from everyone else's: an outbox
        # shared by two people would be sent with whichever token drained it.
        XDG_DATA_HOME=str(home / "data"),
    )
    if spec.runbooks is not None:
        env["INCIDENT_TUI_RUNBOOKS"] = str(spec.runbooks)
    return env


def set_size(fd: int, cols: int, rows: int, xpix: int = 0, ypix: int = 0) -> None:
    # A zero size from a client would make the app draw nothing; keep a sane floor.
    cols, rows = max(2, min(cols or 80, 1000)), max(2, min(rows or 24, 1000))
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, xpix, ypix))


async def _fd_ready(loop: asyncio.AbstractEventLoop, fd: int, write: bool) -> None:
    fut = loop.create_future()

    def ready() -> None:
        if not fut.done():
            fut.set_result(None)

    (loop.add_writer if write else loop.add_reader)(fd, ready)
    try:
        await fut
    finally:
        (loop.remove_writer if write else loop.remove_reader)(fd)


class Session:
    """Runs one child for one SSH channel and ends it when either side goes."""

    def __init__(self, process: asyncssh.SSHServerProcess, person: str, token: str, spec: ChildSpec) -> None:
        self.process = process
        self.person = person
        self.token = token
        self.spec = spec
        self.child: asyncio.subprocess.Process | None = None
        self.master = -1
        self.last_input = time.monotonic()
        self.hangup_reason = ""
        self._hungup = asyncio.Event()

    @property
    def pid(self) -> int | None:
        return self.child.pid if self.child else None

    async def start(self) -> None:
        proc = self.process
        term = proc.get_terminal_type() or "xterm-256color"
        cols, rows, xpix, ypix = proc.get_terminal_size()
        home = self.spec.homes / self.person
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        master, slave = os.openpty()
        try:
            set_size(master, cols, rows, xpix, ypix)  # before the child starts: its first frame fits
            env = child_env(self.spec, self.person, self.token, term, proc.env)
            self.child = await asyncio.create_subprocess_exec(
                self.spec.python,
                "-c",
                BOOT,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=env,
                cwd=str(home),
                start_new_session=True,
                close_fds=True,
            )
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)  # the child holds the only slave end: its exit is the pty's EOF
        os.set_blocking(master, False)
        self.master = master

    async def run(self) -> int:
        """Pump until the child exits or the client goes; returns the child's exit status."""
        assert self.child is not None
        pump_out = asyncio.ensure_future(self._pump_out())
        pump_in = asyncio.ensure_future(self._pump_in())
        hungup = asyncio.ensure_future(self._hungup.wait())
        try:
            await asyncio.wait({pump_out, hungup}, return_when=asyncio.FIRST_COMPLETED)
            if pump_out.done() and pump_out.exception() is not None:
                self.hang_up("the client closed")  # the channel went while output was on its way
            if self._hungup.is_set():
                # SIGHUP to the child's whole group, as a terminal hangup would: the app
                # saves its drafts and exits.
                await self._end_child()
            else:
                # The child closed the pty: it is exiting on its own.
                try:
                    await asyncio.wait_for(asyncio.shield(self.child.wait()), HANGUP_GRACE)
                except TimeoutError:
                    await self._end_child()
            rc = await self.child.wait()
        finally:
            for t in (pump_in, pump_out, hungup):
                t.cancel()
            await asyncio.gather(pump_in, pump_out, hungup, return_exceptions=True)
            if self.child.returncode is None:
                await self._end_child()
            os.close(self.master)
        return rc

    def hang_up(self, reason: str = "") -> None:
        """End the session from outside (the client closed, idle, key revoked, server stops)."""
        if not self.hangup_reason:
            self.hangup_reason = reason
        self._hungup.set()

    async def _end_child(self) -> None:
        child = self.child
        if child is None or child.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGHUP)
        try:
            await asyncio.wait_for(child.wait(), HANGUP_GRACE)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.pid, signal.SIGKILL)
            await child.wait()

    async def _pump_out(self) -> None:
        """pty -> client, holding the child back (the pty fills) while the client is slow."""
        loop = asyncio.get_running_loop()
        stdout = self.process.stdout
        first = True
        while True:
            try:
                data = os.read(self.master, READ_CHUNK)
            except BlockingIOError:
                await _fd_ready(loop, self.master, write=False)
                continue
            except OSError as exc:
                if exc.errno == errno.EIO:  # Linux: every slave end closed, the child is gone
                    return
                raise
            if not data:
                return
            if first:  # the idle clock starts once the app shows something, not while it starts up
                self.last_input, first = time.monotonic(), False
            stdout.write(data)
            await stdout.drain()

    async def _pump_in(self) -> None:
        """client -> pty; a window change resizes the pty (the kernel tells the app)."""
        loop = asyncio.get_running_loop()
        stdin = self.process.stdin
        while True:
            try:
                data = await stdin.read(READ_CHUNK)
            except asyncssh.TerminalSizeChanged as exc:
                set_size(self.master, exc.width, exc.height, exc.pixwidth, exc.pixheight)
                continue
            except (asyncssh.BreakReceived, asyncssh.SignalReceived):
                continue  # never forwarded: the client's signals are not the app's business
            except (asyncssh.Error, OSError, asyncio.IncompleteReadError):
                data = b""
            if not data:
                # EOF: the client is gone (or closed its input, which a terminal never does).
                self.hang_up("the client closed")
                return
            self.last_input = time.monotonic()
            view = memoryview(data if isinstance(data, bytes) else data.encode())
            while view:
                try:
                    n = os.write(self.master, view)
                except BlockingIOError:
                    await _fd_ready(loop, self.master, write=True)
                    continue
                except OSError:
                    return
                view = view[n:]
