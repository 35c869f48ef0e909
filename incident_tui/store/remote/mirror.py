"""The remote store's copy of the server's log: in memory, kept on disk (the log cache).

Events are merged only where they continue the sequence (a gap waits for the next fetch);
`fetch` pages `GET /events` from the copy's end. A copy loaded from disk is checked
against the server (same id at its last seq) before it is trusted or extended.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence

from ...domain.events import Event, EventError, stored_event
from ..base import StoreError
from ..logcache import LogCache
from .http import Api

BATCH_EVENTS = 1000  # the server's per-request limit
CACHE_EVERY, CACHE_SECONDS = 1000, 10.0  # a live log reaches the disk copy after this many events, or seconds


class LogMirror:
    def __init__(self, api: Api, cache: LogCache, closed: Callable[[], bool]) -> None:
        self._api = api
        self._cache = cache
        self._closed = closed
        self.cond = threading.Condition()
        self.events: list[Event] = []
        self.ids: set[str] = set()
        self.synced = False  # the copy has held the whole log at least once
        with contextlib.suppress(OSError):
            self.events = cache.load()
            self.ids = {e.id for e in self.events}
        self.verified = not self.events  # a copy from disk is checked against the server first
        self._cached_at = time.monotonic()

    def __len__(self) -> int:
        return len(self.events)

    def snapshot(self) -> list[Event]:
        with self.cond:
            return list(self.events)

    def merge(self, events: Sequence[Event]) -> None:
        """Add events that continue the copy; older ones are already held, later ones wait."""
        if not events:
            return
        with self.cond:
            n = len(self.events)
            if events[0].seq == n + 1 and all(e.seq == n + i for i, e in enumerate(events, 1)):
                self.events.extend(events)  # a stream's chunk: the usual case, in one go
                self.ids.update(e.id for e in events)
                self.cond.notify_all()
                return
            added = False
            for e in events:
                n = len(self.events)
                if e.seq == n + 1:
                    self.events.append(e)
                    self.ids.add(e.id)
                    added = True
                elif e.seq is None or e.seq > n + 1:
                    break  # a gap: the next fetch fills it
            if added:
                self.cond.notify_all()

    def keep(self, streamed: Sequence[Event] = (), lines: Sequence[bytes] = ()) -> None:
        """Append what the live log gained to the disk copy as it comes (not only at close),
        so a crash or a kill costs the next start a fetch of a little."""
        if not self.verified:
            return
        cache = self._cache
        with self.cond:
            held = len(self.events)
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
            cache.save(self.snapshot())
            self._cached_at = time.monotonic()

    def save(self) -> None:
        if self.verified:
            self._cache.save(self.snapshot())

    def reset(self) -> None:
        """The server holds another log than the copy: start over."""
        with self.cond:
            self.events, self.ids = [], set()
            self.cond.notify_all()
        self._cache.drop()

    def _verify(self) -> None:
        """The copy from disk must be a prefix of the server's log: same id at its last seq."""
        have = len(self.events)
        resp = self._api.get("/events", {"since": have - 1, "limit": 1})
        try:
            doc = resp.json()
            same = int(doc["seq"]) >= have and doc["events"][0]["id"] == self.events[-1].id
        except (ValueError, KeyError, TypeError, IndexError):
            same = False
        if not same:
            self.reset()
        self.verified = True

    def fetch(self, until: int | None = None) -> None:
        """Page `GET /events` from the copy's end to the log's end (or past `until`)."""
        if not self.verified:
            self._verify()
        while not self._closed():
            have = len(self.events)
            params: dict[str, object] = {"since": have, "limit": BATCH_EVENTS}
            if until is not None and have < until:
                # A seq the server acknowledged: its stream may not hold it yet (the hub folds
                # behind the store's append, seconds behind on a loaded box), so wait for it
                # rather than take "nothing new" for an answer (a read right after a write).
                params["wait"] = 5
            resp = self._api.get("/events", params)
            try:
                doc = resp.json()
                events = [stored_event(d) for d in doc["events"]]
                latest = int(doc["seq"])
            except (ValueError, KeyError, TypeError, EventError) as exc:
                raise StoreError(f"{self._api.base} answered GET /events with something unreadable: {exc}") from None
            if latest < have:
                self.reset()  # the server holds fewer events than we do: another store now
                continue
            self.merge(events)
            if not events or len(self.events) >= latest or (until is not None and len(self.events) >= until):
                self.synced = True
                return
