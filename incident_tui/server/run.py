"""`incident-tui serve`: checks the settings, binds, and runs uvicorn over the store."""

from __future__ import annotations

import ipaddress
import socket
import sys
from collections.abc import Sequence
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
from .integrations import parse_integrations

if TYPE_CHECKING:
    from .ssh import SshSettings


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
    if config.remote:
        _say("serve needs a local store (--store or INCIDENT_TUI_STORE); it cannot serve --remote")
        return 2
    if token_flag and token_file:
        _say("--token and --token-file both say who may connect; give one (the file names each person)")
        return 2
    try:
        hosts = HostPolicy([*allowed_hosts, *_own_names(host)], public_url)
    except ValueError as exc:
        _say(str(exc))
        return 2
    try:
        if token_file:
            tokens = Tokens.from_file(token_file)
        elif config.token:
            tokens = Tokens.shared_token(config.token)
        else:
            tokens = Tokens.none()
    except TokenFileError as exc:
        _say(str(exc))
        return 2
    if not tokens.required and not is_loopback(host):
        _say(
            f"refusing to listen on {host} without a token: anyone who reaches it could write; "
            "give --token-file FILE (or --token), or keep the default --host 127.0.0.1"
        )
        return 2
    if not 0 <= port <= 65535:
        _say(f"--port {port} is not a TCP port")
        return 2
    try:
        runbooks = load_runbooks(config.runbooks)
        integrations = parse_integrations(config.tables)
    except (RunbookError, ConfigError) as exc:
        _say(str(exc))
        return 2
    war = None
    if ssh is not None:
        from .ssh import ChildSpec, KeyFolderError, SessionTokens, WarRoomSsh

        tokens = SessionTokens.around(tokens)  # each SSH session gets a token that names its person
    try:
        with gcpolicy.paused():  # the whole log as opened is held for the server's life
            store = open_served_store(config, database)
    except StoreError as exc:
        _say(str(exc))
        return 1
    raise_fd_limit()  # process policy: the connection cap refuses before the descriptors run out
    try:
        try:
            sock = bind(host, port)
        except OSError as exc:
            _say(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
            return 1
        ssh_sock = None
        if ssh is not None:
            from .ssh import api_url_for, install_log_handler

            try:
                ssh_sock = bind(ssh.host, ssh.port)
            except OSError as exc:
                _say(f"cannot listen for ssh on {ssh.host}:{ssh.port}: {exc.strerror or exc}")
                return 1
            spec = ChildSpec(api_url_for(host, sock.getsockname()[1]), ssh.homes, config.runbooks)
            try:
                war = WarRoomSsh(ssh, tokens, spec)  # type: ignore[arg-type]
            except KeyFolderError as exc:
                _say(str(exc))
                return 2
            install_log_handler(_say)
        app = create_app(
            store,
            tokens,
            runbooks=runbooks,
            integrations=integrations,
            store_path=str(config.store),
            freezer=gcpolicy.LogFreezer(),
            hosts=hosts,
        )
        hub = app.state.hub
        real_port = sock.getsockname()[1]
        auth = (
            f"{len(tokens.names)} per-person token(s)"
            if tokens.per_person
            else "one shared token"
            if tokens.required
            else "no token: loopback only"
        )
        shown = f"[{host}]" if ":" in host else host
        _say(f"serving {store.location} on http://{shown}:{real_port}/api/v1 ({auth}); ctrl+c stops")
        if integrations.destinations or integrations.rules:
            _say(
                f"notifying {len(integrations.destinations)} destination(s); "
                f"{len(integrations.rules)} alert rule(s) for /api/v1/alerts/alertmanager and /api/v1/alerts/events-v2"
            )
        sys.stderr.flush()

        class _Server(uvicorn.Server):
            def handle_exit(self, sig: int, frame: FrameType | None) -> None:
                # Open SSE streams would hold a graceful shutdown for ever: end them first.
                hub.close()
                super().handle_exit(sig, frame)
                # uvicorn re-raises the signal once shut down (exit 130 or death by SIGTERM,
                # skipping our cleanup); ctrl+c or SIGTERM is how serve is meant to end: exit 0.
                self._captured_signals.clear()

            async def startup(self, sockets: list[socket.socket] | None = None) -> None:
                await super().startup(sockets)
                if war is not None and not self.should_exit:
                    from .ssh import start_message

                    await war.start(ssh_sock)
                    for line in start_message(war, ssh.host if ssh else host):
                        _say(line)

            async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
                if war is not None:
                    await war.stop()  # the sessions' apps save their drafts while the API still answers
                await super().shutdown(sockets)

        server = _Server(
            uvicorn.Config(
                app,
                http=guarded_protocol(counters=app.state.limits),
                log_level="warning",
                access_log=False,
                lifespan="on",
                timeout_graceful_shutdown=3,
                # Long polls and streams are idle by design; keep-alive covers the gaps between polls.
                timeout_keep_alive=30,
            )
        )
        server.run(sockets=[sock])
        return 0
    finally:
        store.close()
