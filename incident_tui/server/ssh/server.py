"""`serve --ssh-port`: the war room over SSH (SPEC 10), beside the HTTP API in one process.

Authentication is by public key only, against the keys folder; the key names the person.
A session with a terminal runs the app (session.py); everything else an SSH server can
offer is refused with one line to the client and one log line here: sessions without a
terminal, commands (`ssh host cmd`, scp), subsystems (sftp), port, agent and X11
forwarding. Limits: sessions per person and in total, connections in total,
authentication attempts per connection, a login timeout and an idle timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncssh

from ...domain.text import safe_text
from .credentials import SessionTokens
from .keys import PERSON_VAR, KeyFolder, load_or_create_host_key
from .session import ChildSpec, Session

log = logging.getLogger("incident_tui.ssh")

NEEDS_TTY = "incident-tui: this server runs the war room app, which needs a terminal: connect with `ssh -t`"
NO_COMMANDS = "incident-tui: commands are not run here; connect with plain `ssh -t` to open the war room"
NO_SUBSYSTEM = "incident-tui: no file transfer (sftp/scp) or other subsystem here; `ssh -t` opens the war room"
NO_FORWARDING = "incident-tui: port forwarding is not offered here"
MAX_REFUSALS = 20  # refused requests (forwardings, subsystems) before a connection is closed


@dataclass(frozen=True)
class SshLimits:
    per_person: int = 3  # concurrent sessions of one person
    sessions: int = 64  # concurrent sessions in total
    connections: int = 128  # open connections in total, authenticated or not
    auth_attempts: int = 6  # refused keys per connection (OpenSSH's MaxAuthTries)
    login_timeout: float = 30.0  # seconds to authenticate
    idle_timeout: float = 3600.0  # seconds without a key press before a session ends (0: never)
    keepalive: float = 15.0  # seconds between keepalives; 4 unanswered end a dead link


@dataclass(frozen=True)
class SshSettings:
    host: str
    port: int
    keys: Path
    host_key: Path
    homes: Path
    limits: SshLimits = SshLimits()


def _clean(text: object, limit: int = 80) -> str:
    """A client-supplied string for a log line: visible, one line, bounded."""
    return safe_text(text, limit, oneline=True)


class _Process(asyncssh.SSHServerProcess):
    """A session channel: refuses subsystems (sftp) at the request, with a log line."""

    def __init__(self, owner: _Connection) -> None:
        super().__init__(owner.ssh_server._session, None, 0, False)
        self._owner = owner

    def subsystem_requested(self, subsystem: str) -> bool:
        # The client prints its own one line ("subsystem request failed"); no file moves.
        self._owner._refuse(f"subsystem {_clean(subsystem, 40)!r}", NO_SUBSYSTEM)
        return False


class _Connection(asyncssh.SSHServer):
    """One client connection: authentication and the refusals of everything but a session."""

    def __init__(self, ssh_server: WarRoomSsh) -> None:
        self.ssh_server = ssh_server
        self.conn: asyncssh.SSHServerConnection | None = None
        self.peer = "?"
        self.person: str | None = None
        self.refused_keys = 0
        self.refusals = 0
        self.notes: list[str] = []  # refusals to tell the client once its session opens
        self.sessions = 0
        self.idle_since = time.monotonic()

    # -- connection --------------------------------------------------------------

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        peer = conn.get_extra_info("peername") or ("?", 0)
        self.peer = f"{peer[0]}:{peer[1]}"
        if len(self.ssh_server.connections) >= self.ssh_server.settings.limits.connections:
            log.warning(
                "refused connection from %s: %d connections open (the limit)",
                self.peer,
                len(self.ssh_server.connections),
            )
            asyncio.get_running_loop().call_soon(
                conn.disconnect,
                asyncssh.DISC_TOO_MANY_CONNECTIONS,
                "incident-tui: too many connections; try again soon",
            )
            return
        self.ssh_server.connections.add(self)
        # Agent and X11 forwarding are off in the listen options, and asyncssh refuses them
        # silently; these stand-ins (the connection's own hooks for those requests) also
        # tell the client and the log.
        conn.create_agent_listener = self._refuse_agent  # type: ignore[method-assign]
        conn.attach_x11_listener = self._refuse_x11  # type: ignore[method-assign]

    def connection_lost(self, exc: Exception | None) -> None:
        self.ssh_server.connections.discard(self)

    async def _refuse_agent(self) -> bool:
        self._refuse("agent forwarding (-A)", "incident-tui: agent forwarding is refused: your agent stays with you")
        return False

    async def _refuse_x11(self, *args: object) -> None:
        self._refuse("X11 forwarding (-X)", "incident-tui: X11 forwarding is refused")
        return None

    def _refuse(self, what: str, note: str) -> None:
        self.refusals += 1
        if self.refusals > MAX_REFUSALS:
            # A client asking again and again would fill the log (and these notes): cut it off.
            if self.refusals == MAX_REFUSALS + 1 and self.conn is not None:
                log.warning("closed %s (%s) after %d refused requests", self.peer, self.person or "?", MAX_REFUSALS)
                self.conn.disconnect(asyncssh.DISC_BY_APPLICATION, "incident-tui: too many refused requests")
            return
        log.warning("refused %s for %s from %s", what, self.person or "?", self.peer)
        if note not in self.notes:
            self.notes.append(note)

    # -- authentication ------------------------------------------------------------

    def begin_auth(self, username: str) -> bool:
        ring = self.ssh_server.keys.refresh()
        assert self.conn is not None
        self.conn.set_authorized_keys(ring.authorized or asyncssh.import_authorized_keys(""))
        return True

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        # Known keys are matched by the authorized keys set in begin_auth; only unknown
        # ones reach here.
        assert self.conn is not None
        self.refused_keys += 1
        fp = key.get_fingerprint("sha256")
        log.warning("refused unknown key %s (login name %r) from %s", fp, _clean(username, 40), self.peer)
        if self.refused_keys == 1:
            with contextlib.suppress(OSError):
                self.conn.send_auth_banner(
                    f"incident-tui: key {fp} is not one of this war room's; "
                    "an admin adds it as NAME.pub in the server's keys folder\r\n"
                )
        if self.refused_keys >= self.ssh_server.settings.limits.auth_attempts:
            log.warning("closed %s after %d refused keys", self.peer, self.refused_keys)
            asyncio.get_running_loop().call_soon(
                self.conn.disconnect,
                asyncssh.DISC_NO_MORE_AUTH_METHODS_AVAILABLE,
                "incident-tui: too many refused keys",
            )
        return False

    def auth_completed(self) -> None:
        assert self.conn is not None
        env = self.conn.get_key_option("environment", {}) or {}
        self.person = env.get(PERSON_VAR) if isinstance(env, dict) else None
        login = self.conn.get_extra_info("username")
        log.info("%s authenticated from %s (login name %r)", self.person, self.peer, _clean(login, 40))

    # -- sessions and refusals -----------------------------------------------------

    def session_requested(self) -> _Process:
        return _Process(self)

    def connection_requested(self, dest_host: str, dest_port: int, orig_host: str, orig_port: int) -> bool:
        self._refuse(f"port forwarding to {_clean(dest_host, 60)}:{dest_port}", NO_FORWARDING)
        raise asyncssh.ChannelOpenError(asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED, NO_FORWARDING)

    def unix_connection_requested(self, dest_path: str) -> bool:
        self._refuse(f"socket forwarding to {_clean(dest_path, 60)}", NO_FORWARDING)
        raise asyncssh.ChannelOpenError(asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED, NO_FORWARDING)

    def server_requested(self, listen_host: str, listen_port: int) -> bool:
        self._refuse(f"remote port forwarding (-R {listen_port})", NO_FORWARDING + " (-R)")
        return False

    def unix_server_requested(self, listen_path: str) -> bool:
        self._refuse("remote socket forwarding (-R)", NO_FORWARDING + " (-R)")
        return False

    def tun_requested(self, unit: int | None) -> bool:
        self._refuse("tunnel forwarding (-w)", "incident-tui: tunnels are not offered here")
        return False

    def tap_requested(self, unit: int | None) -> bool:
        return self.tun_requested(unit)


class WarRoomSsh:
    """The SSH listener, its sessions and their limits."""

    def __init__(self, settings: SshSettings, tokens: SessionTokens, spec: ChildSpec) -> None:
        self.settings = settings
        self.tokens = tokens
        self.spec = spec
        self.keys = KeyFolder(settings.keys, on_warning=lambda w: log.warning("keys: %s", w))
        self.host_key, self.host_key_created = load_or_create_host_key(settings.host_key)
        self.connections: set[_Connection] = set()
        self.sessions: set[Session] = set()
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self._watch: asyncio.Task[None] | None = None
        self.port = settings.port

    @property
    def fingerprint(self) -> str:
        return self.host_key.get_fingerprint("sha256")

    async def start(self, sock: socket.socket | None = None) -> None:
        limits = self.settings.limits
        self._acceptor = await asyncssh.listen(
            host=None if sock else self.settings.host,
            port=() if sock else self.settings.port,
            sock=sock,
            server_factory=lambda: _Connection(self),
            server_host_keys=[self.host_key],
            encoding=None,  # bytes both ways: the pty speaks bytes
            allow_scp=False,
            agent_forwarding=False,
            x11_forwarding=False,
            password_auth=False,
            kbdint_auth=False,
            login_timeout=limits.login_timeout,
            keepalive_interval=limits.keepalive,
            keepalive_count_max=4,
            server_version="incident-tui",
        )
        self.port = self._acceptor.get_port()
        self._watch = asyncio.ensure_future(self._watchdog())

    async def stop(self) -> None:
        """Stop listening and hang up every session (their apps save their drafts)."""
        if self._watch:
            self._watch.cancel()
        if self._acceptor:
            self._acceptor.close()
        for s in list(self.sessions):
            s.hang_up("the server is stopping")
        deadline = time.monotonic() + 5
        while self.sessions and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for c in list(self.connections):
            if c.conn is not None:
                c.conn.close()
        if self._acceptor:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._acceptor.wait_closed(), 2)

    def count(self, person: str) -> int:
        return sum(1 for s in self.sessions if s.person == person)

    async def _watchdog(self) -> None:
        """Ends idle sessions and those whose key left the folder; closes idle connections."""
        limits = self.settings.limits
        while True:
            await asyncio.sleep(1.0)
            now = time.monotonic()
            ring = self.keys.refresh()
            for s in list(self.sessions):
                if s.person not in ring.people:
                    s.hang_up("the key was removed from the keys folder")
                elif limits.idle_timeout and now - s.last_input > limits.idle_timeout:
                    s.hang_up(f"no key pressed for {limits.idle_timeout:g} s")
            for c in list(self.connections):
                # A connection that never opens a session (ssh -N, a stuck client) is closed.
                if c.person and c.sessions == 0 and now - c.idle_since > max(limits.login_timeout, 10):
                    log.info("closed %s (%s): no session", c.peer, c.person)
                    if c.conn is not None:
                        c.conn.close()
                    self.connections.discard(c)

    async def _session(self, process: asyncssh.SSHServerProcess) -> None:
        conn: Any = process.get_extra_info("connection")
        owner: _Connection | None = conn.get_owner() if conn is not None else None
        person = owner.person if owner else None
        refused = self._refusal(process, owner, person)
        if refused is not None or owner is None or person is None:
            what, message = refused or ("a session without a person", "incident-tui: not authenticated")
            log.warning("refused %s for %s from %s", what, person, owner.peer if owner else "?")
            process.stderr.write((message + "\r\n").encode())
            process.exit(1)
            return
        # A terminal shows one stream: what is said from here on goes to stdout.
        for note in owner.notes:
            process.stdout.write((note + "\r\n").encode())
        owner.notes.clear()
        token = self.tokens.mint(person)
        session = Session(process, person, token, self.spec)
        owner.sessions += 1
        self.sessions.add(session)
        started = time.monotonic()
        try:
            rc = await self._run(session, process, person, owner.peer)
        finally:
            self.tokens.revoke(token)
            self.sessions.discard(session)
            owner.sessions -= 1
            owner.idle_since = time.monotonic()
        log.info(
            "session for %s from %s ended after %.0f s (%s)",
            person,
            owner.peer,
            time.monotonic() - started,
            session.hangup_reason or f"the app exited with {rc}",
        )
        await _goodbye(process, session, rc)

    def _refusal(
        self, process: asyncssh.SSHServerProcess, owner: _Connection | None, person: str | None
    ) -> tuple[str, str] | None:
        """Why this session may not have the app (what the log says, what the person reads), or None."""
        if owner is None or person is None:
            return "a session without a person", "incident-tui: not authenticated"
        if process.subsystem is not None:
            return f"subsystem {_clean(process.subsystem, 40)!r}", NO_SUBSYSTEM
        if process.command is not None:
            return f"command {_clean(process.command, 60)!r}", NO_COMMANDS
        if process.get_terminal_type() is None:
            return "a session without a terminal", NEEDS_TTY
        limits = self.settings.limits
        if len(self.sessions) >= limits.sessions:
            return (
                "a session (total limit)",
                f"incident-tui: {limits.sessions} sessions are open (the limit); try again soon",
            )
        if self.count(person) >= limits.per_person:
            return (
                "a session (per-person limit)",
                f"incident-tui: {person} already has {limits.per_person} sessions open (the limit); close one first",
            )
        return None

    @staticmethod
    async def _run(session: Session, process: asyncssh.SSHServerProcess, person: str, peer: str) -> int:
        """The app for this session, until it exits or the session hangs up; its exit code."""
        try:
            await session.start()
            log.info(
                "session for %s from %s: pid %s, %s %sx%s",
                person,
                peer,
                session.pid,
                _clean(process.get_terminal_type(), 40),
                *process.get_terminal_size()[:2],
            )
            return await session.run()
        except Exception as exc:
            log.error("session for %s from %s failed: %s", person, peer, exc)
            with contextlib.suppress(Exception):
                process.stdout.write(f"incident-tui: the session could not start: {exc}\r\n".encode())
            return 1


async def _goodbye(process: asyncssh.SSHServerProcess, session: Session, rc: int) -> None:
    """Say why the session ended (unless the client left) and close the channel with rc."""
    if process.is_closing():
        return
    with contextlib.suppress(Exception):
        if session.hangup_reason and session.hangup_reason != "the client closed":
            why = session.hangup_reason
            process.stdout.write(f"\r\nincident-tui: session ended: {why}; your typed line is kept\r\n".encode())
        await process.stdout.drain()
        process.exit(rc & 0xFF)


def start_message(ssh_server: WarRoomSsh, host: str) -> list[str]:
    shown = f"[{host}]" if ":" in host else host
    people = len(ssh_server.keys.ring.people)
    created = ", created now" if ssh_server.host_key_created else ""
    lines = [
        f"ssh on {shown}:{ssh_server.port}: {people} person(s) with keys in {ssh_server.settings.keys}"
        + ("" if people else " (nobody can log in until NAME.pub files are added)"),
        f"ssh host key {ssh_server.fingerprint} ({ssh_server.settings.host_key}{created})",
    ]
    return lines


class _SayHandler(logging.Handler):
    def __init__(self, say: Callable[[str], None]) -> None:
        super().__init__()
        self.say = say

    def emit(self, record: logging.LogRecord) -> None:
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        self.say(f"{stamp} ssh: {record.getMessage()}")


def install_log_handler(say: Callable[[str], None]) -> None:
    """Log lines of the SSH side go to stderr beside serve's own messages, with a time."""
    for h in [h for h in log.handlers if isinstance(h, _SayHandler)]:
        log.removeHandler(h)
    log.addHandler(_SayHandler(say))
    log.setLevel(logging.INFO)
    log.propagate = False
