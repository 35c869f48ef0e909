"""`incident-tui serve`: checks the settings, binds, and runs uvicorn over the store."""

from __future__ import annotations

import ipaddress
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING

import uvicorn

from .. import gcpolicy
from ..config import Config, ConfigError
from ..domain.checklists import RunbookError, load_runbooks
from ..store.base import Store, StoreError
from .app import create_app
from .auth import TokenFileError, Tokens
from .conn import guarded_protocol, raise_fd_limit
from .guard import HostPolicy, split_host
from .hub import Hub
from .integrations import Integrations, parse_integrations

if TYPE_CHECKING:
    from .ssh import SshSettings, WarRoomSsh


def _say(message: str) -> None:
    print(f"incident-tui: {message}", file=sys.stderr)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _own_names(host: str) -> list[str]:
    """Host names a server listening beyond loopback answers besides IP literals: the name
    it was told to bind and this machine's own name (an Alertmanager or a Prometheus
    scraper pointed at `http://warroom-host:8765` sends that). A DNS-rebinding page needs
    a name its attacker controls, which neither is."""
    if is_loopback(host):
        return []
    names = [] if _is_wildcard(host) else [host]
    own = socket.gethostname()
    if own and split_host(own) is not None:
        names.append(own)
    return names


def _is_wildcard(host: str) -> bool:
    return host.strip("[]") in ("0.0.0.0", "::", "")


def bind(host: str, port: int) -> socket.socket:
    """Bind before uvicorn does, so a busy port is one line and exit 1, and port 0 works."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, addr = infos[0]
    # proto must say TCP: asyncio sets TCP_NODELAY only on sockets that do, and without it
    # every keep-alive answer waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, kind, proto or socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(addr)
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def open_served_store(config: Config, database: str | None) -> Store:
    if database:
        from ..store.postgres import PostgresStore, is_database_url, redact_dsn

        if not is_database_url(database):
            raise StoreError(f"--database {redact_dsn(database)!r} is not a postgresql:// URL")
        return PostgresStore(database, warn=_say)
    from ..store.jsonfile import JsonStore

    return JsonStore(config.store)


class _Stop(Exception):
    """Why `serve` cannot go on: one line for stderr, and the exit code (2 usage, 1 runtime)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def serve(
    config: Config,
    host: str,
    port: int,
    token_file: str | None,
    *,
    token_flag: bool = False,
    public_url: str | None = None,
    allowed_hosts: Sequence[str] = (),
    database: str | None = None,
    ssh: SshSettings | None = None,
) -> int:
    """`token_flag`: --token was given on this command line (not from the environment)."""
    try:
        hosts, tokens = _access(config, host, port, token_file, token_flag, public_url, allowed_hosts)
        try:
            runbooks = load_runbooks(config.runbooks)
            integrations = parse_integrations(config.tables)
        except (RunbookError, ConfigError) as exc:
            raise _Stop(2, str(exc)) from None
        if ssh is not None:
            from .ssh import SessionTokens

            tokens = SessionTokens.around(tokens)  # each SSH session gets a token that names its person
        try:
            with gcpolicy.paused():  # the whole log as opened is held for the server's life
                store = open_served_store(config, database)
        except StoreError as exc:
            raise _Stop(1, str(exc)) from None
    except _Stop as stop:
        _say(str(stop))
        return stop.code
    raise_fd_limit()  # process policy: the connection cap refuses before the descriptors run out
    try:
        sock = _bind(host, port, "")
        room = _ssh_room(ssh, tokens, config, host, sock.getsockname()[1]) if ssh is not None else None
        app = create_app(
            store,
            tokens,
            runbooks=runbooks,
            integrations=integrations,
            store_path=str(config.store),
            freezer=gcpolicy.LogFreezer(),
            hosts=hosts,
        )
        _banner(store, host, sock.getsockname()[1], tokens, integrations)
        settings = uvicorn.Config(
            app,
            http=guarded_protocol(counters=app.state.limits),
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=3,
            # Long polls and streams are idle by design; keep-alive covers the gaps between polls.
            timeout_keep_alive=30,
        )
        _Server(settings, app.state.hub, room).run(sockets=[sock])
        return 0
    except _Stop as stop:
        _say(str(stop))
        return stop.code
    finally:
        store.close()


def _access(
    config: Config,
    host: str,
    port: int,
    token_file: str | None,
    token_flag: bool,
    public_url: str | None,
    allowed_hosts: Sequence[str],
) -> tuple[HostPolicy, Tokens]:
    """Who may reach the server and by which names; _Stop(2) for settings that cannot be served."""
    if config.remote:
        raise _Stop(2, "serve needs a local store (--store or INCIDENT_TUI_STORE); it cannot serve --remote")
    if token_flag and token_file:
        raise _Stop(2, "--token and --token-file both say who may connect; give one (the file names each person)")
    try:
        hosts = HostPolicy([*allowed_hosts, *_own_names(host)], public_url)
    except ValueError as exc:
        raise _Stop(2, str(exc)) from None
    try:
        if token_file:
            tokens = Tokens.from_file(token_file)
        elif config.token:
            tokens = Tokens.shared_token(config.token)
        else:
            tokens = Tokens.none()
    except TokenFileError as exc:
        raise _Stop(2, str(exc)) from None
    if not tokens.required and not is_loopback(host):
        raise _Stop(
            2,
            f"refusing to listen on {host} without a token: anyone who reaches it could write; "
            "give --token-file FILE (or --token), or keep the default --host 127.0.0.1",
        )
    if not 0 <= port <= 65535:
        raise _Stop(2, f"--port {port} is not a TCP port")
    return hosts, tokens


def _bind(host: str, port: int, what: str) -> socket.socket:
    try:
        return bind(host, port)
    except OSError as exc:
        raise _Stop(1, f"cannot listen{what} on {host}:{port}: {exc.strerror or exc}") from None


def _ssh_room(ssh: SshSettings, tokens: Tokens, config: Config, host: str, api_port: int) -> _SshRoom:
    """The SSH side: its socket bound now (a busy port is one line), its sessions started
    with the server (see _Server.startup)."""
    from .ssh import ChildSpec, KeyFolderError, WarRoomSsh, api_url_for, install_log_handler

    sock = _bind(ssh.host, ssh.port, " for ssh")
    spec = ChildSpec(api_url_for(host, api_port), ssh.homes, config.runbooks)
    try:
        server = WarRoomSsh(ssh, tokens, spec)  # type: ignore[arg-type]
    except KeyFolderError as exc:
        raise _Stop(2, str(exc)) from None
    install_log_handler(_say)
    return _SshRoom(server, sock, ssh.host)


def _banner(store: Store, host: str, port: int, tokens: Tokens, integrations: Integrations) -> None:
    if tokens.per_person:
        auth = f"{len(tokens.names)} per-person token(s)"
    else:
        auth = "one shared token" if tokens.required else "no token: loopback only"
    shown = f"[{host}]" if ":" in host else host
    _say(f"serving {store.location} on http://{shown}:{port}/api/v1 ({auth}); ctrl+c stops")
    if integrations.destinations or integrations.rules:
        _say(
            f"notifying {len(integrations.destinations)} destination(s); "
            f"{len(integrations.rules)} alert rule(s) for /api/v1/alerts/alertmanager and /api/v1/alerts/events-v2"
        )
    sys.stderr.flush()


@dataclass
class _SshRoom:
    server: WarRoomSsh
    sock: socket.socket
    host: str


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, hub: Hub, room: _SshRoom | None) -> None:
        super().__init__(config)
        self.hub = hub
        self.room = room

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # Open SSE streams would hold a graceful shutdown for ever: end them first.
        self.hub.close()
        super().handle_exit(sig, frame)
        # uvicorn re-raises the signal once shut down (exit 130 or death by SIGTERM,
        # skipping our cleanup); ctrl+c or SIGTERM is how serve is meant to end: exit 0.
        self._captured_signals.clear()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.room is not None and not self.should_exit:
            from .ssh import start_message

            await self.room.server.start(self.room.sock)
            for line in start_message(self.room.server, self.room.host):
                _say(line)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.room is not None:
            await self.room.server.stop()  # the sessions' apps save their drafts while the API still answers
        await super().shutdown(sockets)
