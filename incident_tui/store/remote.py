"""The remote store: an incident-tui server used exactly like a local store (SPEC 6).

- The log is cached in memory. A short-lived CLI run fills it by paging
  `GET /events`; once something calls `wait` (the app), a reader thread keeps it live
  through Server-Sent Events, or long polls where a proxy will not stream, and
  reconnects with backoff from the last seq it holds (`Last-Event-ID`).
- Every write goes to the on-disk outbox first (fsynced), then to the server; it is
  retried with the same event id until the server answers its seq, and shown by
  `pending()` until then. A write that could only be queued comes back with
  `seq=None`. The constructor sends what an earlier run left in the outbox.
- Timeouts are explicit: httpx's default 5 s read timeout would kill a quiet stream,
  so a stream may be silent for three server ping intervals before it counts as lost.
"""

from __future__ import annotations

import contextlib
import random
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Literal

import httpx
import orjson

from ..domain.events import Event, EventError, stored_event
from .base import LinkState, StoreError
from .logcache import LogCache
from .outbox import Outbox, outbox_path
from .sse import SSEParser

API = "/api/v1"
BATCH_EVENTS = 1000  # the server's per-request limit
BATCH_BYTES = 900 * 1024  # under the server's 1 MiB body limit, with room for the envelope
STREAM_READ_TIMEOUT = 45.0  # three of the server's 15 s pings
POLL_WAIT = 10.0  # a long poll's hold; also bounds how long close() waits for a poller
OFFLINE_AFTER = 10.0  # seconds of failed attempts before "reconnecting" becomes "offline"
BACKOFF_MIN, BACKOFF_MAX = 0.1, 5.0
CACHE_EVERY, CACHE_SECONDS = 1000, 10.0  # a live log reaches the disk copy after this many events, or seconds

Transport = Literal["sse", "poll"]


class _Transient(Exception):
    """The server could not be reached or answered 5xx: try again later with the same ids."""


class _Refused(Exception):
    """The server refused the request for good (4xx): resending the same bytes cannot help."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _warn(message: str) -> None:
    print(f"incident-tui: warning: {message}", file=sys.stderr)


def _error_text(resp: httpx.Response) -> str:
    try:
        return str(resp.json()["error"])
    except Exception:
        return resp.text[:200].strip() or resp.reason_phrase


class RemoteStore:
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
        base = url.strip().rstrip("/")
        if base.endswith(API):
            base = base[: -len(API)]
        if not base.startswith(("http://", "https://")):
            raise StoreError(f"--remote {url!r} is not an http:// or https:// URL")
        self.location = base
        self.user = user
        self.transport: Transport = transport
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        # Connect fails fast (a dead server should queue writes at once); reads allow a busy server.
        self._http = httpx.Client(base_url=base, headers=headers, timeout=httpx.Timeout(timeout, connect=3.0))
        # A POST's request is built by hand from these: the client's own build_request
        # (URL merging and parsing, cookies) was a third of a POST's CPU, and bench_load's
        # clients are CPU-bound on a shared box (measured 840 -> 540 us a POST).
        self._post_url = httpx.URL(base + API + "/events")
        self._post_headers = httpx.Headers(
            {**headers, "Content-Type": "application/json", "Accept": "application/json", "User-Agent": "incident-tui"}
        )
        self._stream_http = httpx.Client(
            base_url=base, headers=headers, timeout=httpx.Timeout(10.0, connect=3.0, read=STREAM_READ_TIMEOUT)
        )
        if data_dir is None:
            from platformdirs import user_data_path

            from ..config import APP

            data_dir = user_data_path(APP)
        try:
            self.outbox = Outbox(outbox_path(Path(data_dir), user, base))
        except OSError as exc:
            raise StoreError(f"cannot open the outbox under {data_dir}: {exc.strerror or exc}") from None
        self._logcache = LogCache(outbox_path(Path(data_dir), user, base, "cache"))

        self._cond = threading.Condition()
        self._events: list[Event] = []
        self._ids: set[str] = set()
        self._synced = False  # the cache has held the whole log at least once
        with contextlib.suppress(OSError):
            self._events = self._logcache.load()
            self._ids = {e.id for e in self._events}
        self._verified = not self._events  # a cache from disk is checked against the server first
        self._send_lock = threading.Lock()
        self._last_ok: float | None = None
        self._fail_since: float | None = None
        self._last_error = ""
        self._closed = threading.Event()
        self._live = False
        self._threads: list[threading.Thread] = []
        self._sender_wake = threading.Event()
        self._stream_resp: httpx.Response | None = None
        self._recent: dict[str, Event] = {}  # acknowledged lately, by id, whichever thread sent it
        self._cached_at = time.monotonic()
        self.connects = 0  # streams (or poll loops) opened: a reconnect counter for status and tests

        # Every run first sends what an earlier one left waiting (SPEC 6).
        if self.outbox.events():
            with contextlib.suppress(_Transient, StoreError):
                self._flush()

    # -- link state ----------------------------------------------------------------

    def _ok(self) -> None:
        self._last_ok = time.monotonic()
        self._fail_since = None

    def _fail(self, why: str) -> None:
        if self._fail_since is None:
            self._fail_since = time.monotonic()
        self._last_error = why

    def link_state(self) -> LinkState:
        if self._closed.is_set():
            return "offline"
        if self._fail_since is None:
            return "connected" if self._last_ok is not None or not self._live else "reconnecting"
        if self._live and time.monotonic() - self._fail_since < OFFLINE_AFTER:
            return "reconnecting"
        return "offline"

    @property
    def last_error(self) -> str:
        """Why the last request failed (for a status line); empty when none has."""
        return self._last_error

    # -- HTTP ----------------------------------------------------------------------

    def _request(self, method: str, path: str, **kw: object) -> httpx.Response:
        return self._send(lambda: self._http.request(method, API + path, **kw))  # type: ignore[arg-type]

    def _send(self, call: Callable[[], httpx.Response]) -> httpx.Response:
        try:
            resp = call()
        except httpx.HTTPError as exc:
            self._fail(f"{type(exc).__name__}: {exc}".rstrip(": "))
            raise _Transient(str(exc)) from None
        if resp.status_code >= 500 or resp.status_code in (408, 429):
            self._fail(f"{self.location} answered {resp.status_code}: {_error_text(resp)}")
            raise _Transient(f"{resp.status_code}")
        self._ok()
        if resp.status_code >= 400:
            raise _Refused(resp.status_code, _error_text(resp))
        return resp

    def _post(self, batch: Sequence[Event]) -> list[Event]:
        body = orjson.dumps({"events": [e.to_dict() for e in batch]})
        request = httpx.Request("POST", self._post_url, content=body, headers=self._post_headers)
        resp = self._send(lambda: self._http.send(request))
        try:
            stored = [Event.from_dict(d, require_seq=True) for d in orjson.loads(resp.content)["events"]]
        except (ValueError, KeyError, TypeError, EventError) as exc:
            raise StoreError(f"{self.location} answered a POST with something unreadable: {exc}") from None
        if [e.id for e in stored] != [e.id for e in batch]:
            raise StoreError(f"{self.location} answered a POST with other events than were sent")
        return stored

    # -- the cache -----------------------------------------------------------------

    def _merge(self, events: Sequence[Event]) -> None:
        """Add events that continue the cache; older ones are already held, later ones wait."""
        if not events:
            return
        with self._cond:
            n = len(self._events)
            if events[0].seq == n + 1 and all(e.seq == n + i for i, e in enumerate(events, 1)):
                self._events.extend(events)  # a stream's chunk: the usual case, in one go
                self._ids.update(e.id for e in events)
                self._cond.notify_all()
                return
            added = False
            for e in events:
                n = len(self._events)
                if e.seq == n + 1:
                    self._events.append(e)
                    self._ids.add(e.id)
                    added = True
                elif e.seq is None or e.seq > n + 1:
                    break  # a gap: the next fetch fills it
            if added:
                self._cond.notify_all()

    def _keep_cache(self, streamed: Sequence[Event] = (), lines: Sequence[bytes] = ()) -> None:
        """Append what the live log gained to the disk copy as it comes (not only at close),
        so a crash or a kill costs the next start a fetch of a little."""
        if not self._verified:
            return
        cache = self._logcache
        with self._cond:
            held = len(self._events)
        if (
            streamed
            and streamed[0].seq == cache.loaded + 1
            and streamed[-1].seq == held
            and len(streamed) == held - cache.loaded
            and not any(b"\n" in line for line in lines)
        ):
            cache.append_lines(lines, held)  # exactly the events the file lacks, as sent
            self._cached_at = time.monotonic()
            return
        waiting = held - cache.loaded
        if waiting >= CACHE_EVERY or (waiting > 0 and time.monotonic() - self._cached_at >= CACHE_SECONDS):
            cache.save(self.read_cached())
            self._cached_at = time.monotonic()

    def _reset_cache(self) -> None:
        with self._cond:
            self._events, self._ids = [], set()
            self._cond.notify_all()
        self._logcache.drop()

    def _verify_cache(self) -> None:
        """The cache from disk must be a prefix of the server's log: same id at its last seq."""
        have = len(self._events)
        resp = self._request("GET", "/events", params={"since": have - 1, "limit": 1})
        try:
            doc = resp.json()
            same = int(doc["seq"]) >= have and doc["events"][0]["id"] == self._events[-1].id
        except (ValueError, KeyError, TypeError, IndexError):
            same = False
        if not same:
            self._reset_cache()
        self._verified = True

    def _fetch(self, until: int | None = None) -> None:
        """Page `GET /events` from the cache's end to the log's end (or past `until`)."""
        if not self._verified:
            self._verify_cache()
        while not self._closed.is_set():
            have = len(self._events)
            resp = self._request("GET", "/events", params={"since": have, "limit": BATCH_EVENTS})
            try:
                doc = resp.json()
                events = [Event.from_dict(d, require_seq=True) for d in doc["events"]]
                latest = int(doc["seq"])
            except (ValueError, KeyError, TypeError, EventError) as exc:
                raise StoreError(f"{self.location} answered GET /events with something unreadable: {exc}") from None
            if latest < have:
                # The server holds fewer events than we do: another store now; start over.
                self._reset_cache()
                continue
            self._merge(events)
            if not events or len(self._events) >= latest or (until is not None and len(self._events) >= until):
                self._synced = True
                return

    def _sync(self) -> None:
        """For runs without a reader thread: bring the cache to the server's end."""
        if self._live:
            return
        try:
            self._fetch()
        except _Transient:
            # Offline: show what the last sync saw (and what waits to be sent), if anything.
            if not (self._synced or self._events or self.outbox.events()):
                raise StoreError(f"cannot reach {self.location}: {self._last_error}") from None
        except _Refused as exc:
            raise StoreError(f"{self.location} refused to list events ({exc.status}): {exc}") from None

    # -- the Store protocol ------------------------------------------------------------

    def read(self, after: int = 0, limit: int | None = None) -> list[Event]:
        self._sync()
        with self._cond:
            start = max(after, 0)
            return self._events[start : None if limit is None else start + limit]

    def read_cached(self) -> list[Event]:
        """The log as held now, without asking the server."""
        with self._cond:
            return list(self._events)

    def latest_seq(self) -> int:
        self._sync()
        return len(self._events)

    def wait(self, after: int, timeout: float) -> bool:
        self.start()
        with self._cond:
            return self._cond.wait_for(lambda: len(self._events) > after or self._closed.is_set(), timeout) and (
                len(self._events) > after
            )

    def pending(self) -> list[Event]:
        waiting = self.outbox.events()
        with self._cond:
            return [e for e in waiting if e.id not in self._ids]

    def append(self, events: Sequence[Event]) -> list[Event]:
        if self._closed.is_set():
            raise StoreError(f"the connection to {self.location} is closed")
        for e in events:
            try:
                Event.from_dict(replace(e, seq=None).to_dict())
            except EventError as exc:
                raise StoreError(f"refused event {e.id}: {exc}") from None
        events = [replace(e, seq=None) for e in events]
        try:
            self.outbox.add(events)
        except OSError as exc:
            raise StoreError(f"cannot write the outbox {self.outbox.path}: {exc.strerror}") from None
        if self._live and self._fail_since is not None:
            # The link is down: don't make the caller wait on a connect; the sender retries.
            self._sender_wake.set()
            return list(events)
        try:
            acked = self._flush(raise_refused=True)
        except _Transient:
            self._sender_wake.set()
            acked = {}
        # The sender thread may have sent them first: that counts as acknowledged too.
        return [acked.get(e.id) or self._recent.get(e.id, e) for e in events]

    def _flush(self, raise_refused: bool = False) -> dict[str, Event]:
        """Send the outbox in order; returns the stored copy of each acknowledged id.

        Raises _Transient when the server cannot take it now. A batch refused for good
        (4xx) is set aside beside the outbox with a warning, or raised as StoreError
        when `raise_refused` (the caller's own write)."""
        acked: dict[str, Event] = {}
        with self._send_lock:
            waiting = self.outbox.events()
            while waiting:
                batch, size = [], 0
                for e in waiting[:BATCH_EVENTS]:
                    size += len(orjson.dumps(e.to_dict())) + 1
                    if batch and size > BATCH_BYTES:
                        break
                    batch.append(e)
                waiting = waiting[len(batch) :]
                try:
                    stored = self._post(batch)
                except _Refused as exc:
                    if exc.status in (401, 403):
                        # Not these events' fault: they wait for a run with the right token.
                        self._fail(f"{self.location} refused the token ({exc.status}): {exc}")
                        if raise_refused:
                            raise StoreError(
                                f"{self.location} refused the token ({exc.status}): {exc}; "
                                f"{len(waiting) + len(batch)} event(s) wait in {self.outbox.path}"
                            ) from None
                        raise _Transient(str(exc)) from None
                    side = self.outbox.set_aside(batch, f"{exc.status}: {exc}")
                    msg = f"{self.location} refused {len(batch)} event(s) ({exc.status}): {exc}"
                    if raise_refused:
                        raise StoreError(f"{msg}; kept in {side}") from None
                    _warn(f"{msg}; kept in {side}")
                    continue
                for e in stored:
                    acked[e.id] = e
                    self._recent[e.id] = e
                while len(self._recent) > 10_000:  # dicts keep insertion order: drop the oldest
                    del self._recent[next(iter(self._recent))]
                # Let the cache hold them before they leave pending(), so a view never loses them.
                with contextlib.suppress(_Transient, _Refused, StoreError):
                    self._catch_up_to(max(e.seq or 0 for e in stored))
                self.outbox.remove({e.id for e in batch})
        return acked

    def _catch_up_to(self, seq: int) -> None:
        if self._live:
            with self._cond:
                if self._cond.wait_for(lambda: len(self._events) >= seq, 0.5):
                    return
        self._fetch(until=seq)

    # -- live sync -------------------------------------------------------------------

    def start(self) -> None:
        """Start the reader and sender threads (the app's live mode); idempotent."""
        if self._live or self._closed.is_set():
            return
        self._live = True
        for name, target in (("reader", self._reader), ("sender", self._sender)):
            t = threading.Thread(target=target, name=f"incident-tui-remote-{name}", daemon=True)
            t.start()
            self._threads.append(t)

    def _reader(self) -> None:
        backoff = BACKOFF_MIN
        while not self._closed.is_set():
            try:
                self._fetch()  # catch up by paging first: a stream replays nothing it need not
                self._sender_wake.set()
                if self.transport == "sse":
                    self._stream()
                else:
                    self._poll()
                backoff = BACKOFF_MIN  # the server ended the stream: come back at once
            except (_Transient, httpx.HTTPError, OSError) as exc:
                if self._closed.is_set():
                    break
                self._fail(f"{self.location}: {type(exc).__name__}: {exc}".rstrip(": "))
            except _Refused as exc:
                self._fail(f"{self.location} refused ({exc.status}): {exc}")
                backoff = BACKOFF_MAX
            except StoreError as exc:
                self._fail(str(exc))
                backoff = BACKOFF_MAX
            self._closed.wait(backoff * random.uniform(0.5, 1.0))
            backoff = min(backoff * 2, BACKOFF_MAX)

    def _stream(self) -> None:
        have = len(self._events)
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-store"}
        if have:
            headers["Last-Event-ID"] = str(have)
        try:
            with self._stream_http.stream("GET", f"{API}/stream", params={"since": have}, headers=headers) as resp:
                if resp.status_code >= 400:
                    if resp.status_code < 500:
                        resp.read()
                        raise _Refused(resp.status_code, _error_text(resp))
                    raise _Transient(str(resp.status_code))
                if not resp.headers.get("content-type", "").startswith("text/event-stream"):
                    self.transport = "poll"  # something between us buffers or rewrites: poll instead
                    raise _Transient("no event stream; falling back to long poll")
                self._stream_resp = resp
                self.connects += 1
                self._ok()
                parser = SSEParser()
                for chunk in resp.iter_bytes():
                    if self._closed.is_set():
                        return
                    lines = [data for _, data in parser.feed(chunk).events if data]
                    try:
                        # The server validated them on append: per streamed event, only the
                        # checks the fold relies on (as when a store file is loaded).
                        events = [stored_event(orjson.loads(line)) for line in lines]
                    except (ValueError, KeyError, TypeError, AttributeError) as exc:
                        raise _Transient(f"unreadable stream event: {exc}") from None
                    if events:
                        self._merge(events)
                        self._keep_cache(events, lines)
                    self._ok()  # an event or a ping: the link is alive
        finally:
            self._stream_resp = None

    def _poll(self) -> None:
        self.connects += 1
        while not self._closed.is_set():
            have = len(self._events)
            try:
                resp = self._stream_http.get(
                    f"{API}/events", params={"since": have, "limit": BATCH_EVENTS, "wait": POLL_WAIT}
                )
            except httpx.HTTPError as exc:
                raise _Transient(str(exc)) from None
            if resp.status_code >= 500:
                raise _Transient(str(resp.status_code))
            if resp.status_code >= 400:
                raise _Refused(resp.status_code, _error_text(resp))
            self._ok()
            try:
                doc = resp.json()
                events = [Event.from_dict(d, require_seq=True) for d in doc["events"]]
            except (ValueError, KeyError, TypeError, EventError) as exc:
                raise _Transient(f"unreadable poll answer: {exc}") from None
            if int(doc["seq"]) < have:
                self._reset_cache()
                continue
            self._merge(events)
            self._keep_cache()

    def _sender(self) -> None:
        """Retries the outbox: at once when woken, then with backoff while the server is away."""
        delay = BACKOFF_MIN
        while not self._closed.is_set():
            self._sender_wake.wait(delay if self.outbox.events() else 5.0)
            self._sender_wake.clear()
            if self._closed.is_set() or not self.outbox.events():
                continue
            try:
                self._flush()
                delay = BACKOFF_MIN
            except _Transient:
                delay = min(max(delay * 2, BACKOFF_MIN), BACKOFF_MAX) * random.uniform(0.5, 1.0)
            except StoreError as exc:
                self._fail(str(exc))
                delay = BACKOFF_MAX

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        self._sender_wake.set()
        with self._cond:
            self._cond.notify_all()
        resp = self._stream_resp
        if resp is not None:
            # Unblock the reader's socket read at once; closing the client from here would not.
            stream = resp.extensions.get("network_stream")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if isinstance(sock, socket.socket):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        for t in self._threads:
            t.join(0.5 if self.transport == "sse" else 0.1)
        if self._verified:
            self._logcache.save(self.read_cached())
        self._http.close()
        with contextlib.suppress(RuntimeError):  # a poller may still be inside it; it exits alone
            self._stream_http.close()
        self.outbox.close()

    def __enter__(self) -> RemoteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
