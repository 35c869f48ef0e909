"""The remote store: an incident-tui server used exactly like a local store (SPEC 6).

It is four parts behind the Store protocol: the HTTP wrapper with its one status
mapping (http.py), the copy of the server's log (mirror.py), the outbox sender
(sender.py) and the live stream reader (reader.py).

- The log is mirrored in memory. A short-lived CLI run fills it by paging
  `GET /events`; once something calls `wait` (the app), a reader thread keeps it live.
- Every write goes to the on-disk outbox first (fsynced), then to the server; it is
  retried with the same event id until the server answers its seq, and shown by
  `pending()` until then. A write that could only be queued comes back with `seq=None`.
- Constructing one touches neither the network nor the disk (nor imports httpx): the
  first call that needs the server opens it, and first sends what an earlier run left
  in the outbox. So the app can be handed a store and open its window at once.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ...domain.events import Event, EventError
from ..base import LinkState, StoreError
from ..files import warn
from .urls import base_urls, redact_url

if TYPE_CHECKING:
    from ..outbox import Outbox
    from .http import Api, Link
    from .mirror import LogMirror
    from .reader import StreamReader
    from .sender import OutboxSender

Transport = Literal["sse", "poll"]


class RemoteStore:
    # Nothing is read until first asked: the app reads it in its sync thread, not before
    # the first frame (a local store's log is folded for that frame instead).
    opens_on_first_read = True

    def __init__(
        self,
        url: str,
        token: str | None = None,
        user: str = "anonymous",
        data_dir: Path | str | None = None,
        *,
        transport: Transport = "sse",
        timeout: float = 10.0,
    ) -> None:
        self.servers = base_urls(url)  # replicas of one log, tried in turn (SPEC 12)
        # Shown, logged and used in file names: without any credentials typed into the URL.
        self.location = ",".join(redact_url(b) for b in self.servers)
        self.user = user
        self._token = token
        self._timeout = timeout
        self._transport: Transport = transport
        self._data_dir = Path(data_dir) if data_dir is not None else None
        self._open_lock = threading.Lock()
        self._opened = False
        self._closed = threading.Event()
        self._live = False
        self._threads: list[threading.Thread] = []
        self._link: Link | None = None
        self._notices: list[str] | None = None  # a list once a screen takes them (take_notices)
        self._notice_lock = threading.Lock()

    # -- opening -------------------------------------------------------------------

    def _open(self) -> None:
        """Open the parts once: httpx clients, outbox, the log copy; then send what waits."""
        if self._opened:
            return
        with self._open_lock:
            if self._opened:
                return
            import httpx

            from ..logcache import LogCache
            from ..outbox import Outbox, outbox_path
            from .http import Api, Link, Transient
            from .mirror import LogMirror
            from .reader import StreamReader
            from .sender import OutboxSender

            link = Link()
            try:  # before anything is named after the URL (the outbox, the cache)
                api = Api(self.servers, self._token, link, self._timeout)
            except httpx.InvalidURL:
                # httpx's reason quotes the part it choked on, which may be the password's: not shown.
                raise StoreError(f"--remote {self.location}: not a valid URL (check its host and port)") from None
            data_dir = self._data_dir
            if data_dir is None:
                from platformdirs import user_data_path

                from ...config import APP

                data_dir = user_data_path(APP)
            try:
                outbox = Outbox(outbox_path(data_dir, self.user, self.location), warn=self._notice)
            except OSError as exc:
                api.close()
                raise StoreError(f"cannot open the outbox under {data_dir}: {exc.strerror or exc}") from None
            self._link = link
            self._api: Api = api
            cache = LogCache(outbox_path(data_dir, self.user, self.location, "cache"))
            self._mirror: LogMirror = LogMirror(self._api, cache, self._closed.is_set)
            self._sender: OutboxSender = OutboxSender(self._api, outbox, self._catch_up_to, self._closed)
            self._sender.notice = self._notice
            self._reader: StreamReader = StreamReader(
                self._api, self._mirror, self._transport, self._closed, self._sender.wake.set
            )
            self._opened = True
        # Every run first sends what an earlier one left waiting (SPEC 6).
        if outbox.events():
            with contextlib.suppress(Transient, StoreError):
                self._sender.flush()

    def _notice(self, text: str) -> None:
        """Something about this person's unsent lines (set aside, moved aside): to the screen
        that takes notices, else to stderr (a CLI run)."""
        with self._notice_lock:
            if self._notices is not None:
                self._notices.append(text)
                return
        warn(text)

    def take_notices(self) -> list[str]:
        """The notices since the last call. The first call claims them for the caller (the
        app: a line printed to stderr would only scramble its screen), so call it before
        anything opens the store."""
        with self._notice_lock:
            out, self._notices = self._notices or [], []
        return out

    @property
    def outbox(self) -> Outbox:
        self._open()
        return self._sender.outbox

    @property
    def transport(self) -> Transport:
        return self._reader.transport if self._opened else self._transport

    @property
    def connects(self) -> int:
        """Streams (or poll loops) opened: a reconnect counter for status and tests."""
        return self._reader.connects if self._opened else 0

    # -- link state ----------------------------------------------------------------

    def link_state(self) -> LinkState:
        if self._link is None:  # not opened yet: nothing has failed
            return "offline" if self._closed.is_set() else "connected"
        return self._link.state(self._live, self._closed.is_set())

    @property
    def live_server(self) -> str:
        """The server in use now: one of `servers`."""
        return self._api.base if self._opened else redact_url(self.servers[0])

    @property
    def last_error(self) -> str:
        """Why the last request failed (for a status line); empty when none has."""
        return self._link.last_error if self._link is not None else ""

    def get_json(self, path: str) -> object | None:
        """`GET /api/v1<path>` as JSON, or None unless the server answers 200; it does not
        count towards the link state (an old server without the endpoint is not down)."""
        self._open()
        resp = self._api.http.get(self._api.url(path), timeout=2)  # a look every few seconds; never hold an exit long
        return resp.json() if resp.status_code == 200 else None

    # -- the Store protocol ------------------------------------------------------------

    def _sync(self) -> None:
        """For runs without a reader thread: bring the copy to the server's end."""
        from .http import Refused, Transient

        self._open()
        if self._live:
            return
        try:
            self._mirror.fetch()
        except Transient:
            # Offline: show what the last sync saw (and what waits to be sent), if anything.
            if not (self._mirror.synced or self._mirror.events or self._sender.outbox.events()):
                raise StoreError(f"cannot reach {self.location}: {self.last_error}") from None
        except Refused as exc:
            raise StoreError(f"{self.location} refused to list events ({exc.status}): {exc}") from None

    def read(self, after: int = 0, limit: int | None = None) -> list[Event]:
        self._sync()
        with self._mirror.cond:
            start = max(after, 0)
            return self._mirror.events[start : None if limit is None else start + limit]

    def read_cached(self) -> list[Event]:
        """The log as held now, without asking the server."""
        self._open()
        return self._mirror.snapshot()

    def latest_seq(self) -> int:
        self._sync()
        return len(self._mirror)

    def wait(self, after: int, timeout: float) -> bool:
        self.start()
        mirror = self._mirror
        with mirror.cond:
            return mirror.cond.wait_for(lambda: len(mirror) > after or self._closed.is_set(), timeout) and (
                len(mirror) > after
            )

    def pending(self) -> list[Event]:
        self._open()
        waiting = self._sender.outbox.events()
        with self._mirror.cond:
            return [e for e in waiting if e.id not in self._mirror.ids]

    def append(self, events: Sequence[Event]) -> list[Event]:
        from .http import Transient

        if self._closed.is_set():
            raise StoreError(f"the connection to {self.location} is closed")
        self._open()
        for e in events:
            try:
                Event.from_dict(replace(e, seq=None).to_dict())
            except EventError as exc:
                raise StoreError(f"refused event {e.id}: {exc}") from None
        events = [replace(e, seq=None) for e in events]
        outbox = self._sender.outbox
        try:
            outbox.add(events)
        except OSError as exc:
            raise StoreError(f"cannot write the outbox {outbox.path}: {exc.strerror}") from None
        if self._live and self._link is not None and self._link.down:
            # The link is down: don't make the caller wait on a connect; the sender retries.
            self._sender.wake.set()
            return list(events)
        try:
            acked = self._sender.flush(raise_refused=True)
        except Transient:
            self._sender.wake.set()
            acked = {}
        # The sender thread may have sent them first: that counts as acknowledged too.
        recent = self._sender.recent
        return [acked.get(e.id) or recent.get(e.id, e) for e in events]

    def _catch_up_to(self, seq: int) -> None:
        mirror = self._mirror
        if self._live:
            with mirror.cond:
                if mirror.cond.wait_for(lambda: len(mirror) >= seq, 0.5):
                    return
        mirror.fetch(until=seq)

    # -- live sync -------------------------------------------------------------------

    def start(self) -> None:
        """Start the reader and sender threads (the app's live mode); idempotent."""
        self._open()
        if self._live or self._closed.is_set():
            return
        self._live = True
        for name, target in (("reader", self._reader.run), ("sender", self._sender.run)):
            t = threading.Thread(target=target, name=f"incident-tui-remote-{name}", daemon=True)
            t.start()
            self._threads.append(t)

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        if not self._opened:
            return
        self._sender.wake.set()
        with self._mirror.cond:
            self._mirror.cond.notify_all()
        self._reader.interrupt()
        for t in self._threads:
            t.join(0.5 if self._reader.transport == "sse" else 0.1)
        self._mirror.save()
        self._api.close()
        self._sender.outbox.close()

    def __enter__(self) -> RemoteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
