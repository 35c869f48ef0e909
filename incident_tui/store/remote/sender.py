"""Sending the outbox: in order, in batches under the server's limits, until acknowledged.

Every write is in the on-disk outbox (fsynced) before it is sent, and leaves it only
once the server has answered its seq and the mirror holds it. A batch the server
refuses for good (4xx other than 401/403) is set aside beside the outbox with a
warning; a refused token keeps everything waiting for a run with the right one.
"""

from __future__ import annotations

import contextlib
import random
import threading
from collections.abc import Callable

import orjson

from ...domain.events import Event
from ..base import StoreError
from ..files import warn
from ..outbox import Outbox
from .http import Api, Refused, Transient
from .mirror import BATCH_EVENTS

BATCH_BYTES = 900 * 1024  # under the server's 1 MiB body limit, with room for the envelope
BACKOFF_MIN, BACKOFF_MAX = 0.1, 5.0
RECENT_KEPT = 10_000  # acknowledged copies remembered for a caller whose write another thread sent


class OutboxSender:
    def __init__(self, api: Api, outbox: Outbox, catch_up: Callable[[int], None], closed: threading.Event) -> None:
        self._api = api
        self.outbox = outbox
        self._catch_up = catch_up  # until the mirror holds a seq: pending() never loses a line
        self._closed = closed
        self._lock = threading.Lock()
        self.wake = threading.Event()
        self.recent: dict[str, Event] = {}  # acknowledged lately, by id, whichever thread sent it
        self.notice: Callable[[str], None] = warn  # the store gives its own: stderr and the app's notes

    def _batches(self, waiting: list[Event], alone: bool = False) -> list[list[Event]]:
        """Batches to POST in order; `alone`: one command (one outbox add) a batch, so that a
        refusal sets aside only the command refused, never its neighbours nor half of it."""
        out: list[list[Event]] = []
        while waiting:
            batch, size = [], 0
            group = self.outbox.group_of(waiting[0])
            for e in waiting[:BATCH_EVENTS]:
                if alone and self.outbox.group_of(e) != group:
                    break
                size += len(orjson.dumps(e.to_dict())) + 1
                if batch and size > BATCH_BYTES:
                    break
                batch.append(e)
            out.append(batch)
            waiting = waiting[len(batch) :]
        return out

    def flush(self, raise_refused: bool = False) -> dict[str, Event]:
        """Send the outbox in order; returns the stored copy of each acknowledged id.

        Raises Transient when the server cannot take it now. A batch refused for good is
        set aside with a warning, or raised as StoreError when `raise_refused` (the
        caller's own write)."""
        acked: dict[str, Event] = {}
        with self._lock:
            batches = self._batches(self.outbox.events())
            while batches:
                batch = batches.pop(0)
                try:
                    stored = self._api.post_events(batch)
                except Refused as exc:
                    if exc.status not in (401, 403) and len({self.outbox.group_of(e) for e in batch}) > 1:
                        batches[:0] = self._batches(batch, alone=True)  # find the command refused
                        continue
                    left = len(batch) + sum(len(b) for b in batches)
                    self._refused(batch, exc, left, raise_refused)
                    continue
                for e in stored:
                    acked[e.id] = e
                    self.recent[e.id] = e
                while len(self.recent) > RECENT_KEPT:  # dicts keep insertion order: drop the oldest
                    del self.recent[next(iter(self.recent))]
                # Let the mirror hold them before they leave pending(), so a view never loses them.
                with contextlib.suppress(Transient, Refused, StoreError):
                    self._catch_up(max(e.seq or 0 for e in stored))
                self.outbox.remove({e.id for e in batch})
        return acked

    def _refused(self, batch: list[Event], exc: Refused, left: int, raise_refused: bool) -> None:
        where = self._api.base
        if exc.status in (401, 403):
            # Not these events' fault: they wait for a run with the right token.
            self._api.link.fail(f"{where} refused the token ({exc.status}): {exc}")
            if raise_refused:
                raise StoreError(
                    f"{where} refused the token ({exc.status}): {exc}; {left} event(s) wait in {self.outbox.path}"
                ) from None
            raise Transient(str(exc)) from None
        side = self.outbox.set_aside(batch, f"{exc.status}: {exc}")
        msg = f"{where} refused {len(batch)} event(s) for good ({exc.status}): {exc}"
        if raise_refused:
            raise StoreError(f"{msg}; kept in {side}") from None
        self.notice(f"{msg}; set aside in {side}, not sent again")

    def run(self) -> None:
        """The sender thread: retries at once when woken, then with backoff while the server is away."""
        delay = BACKOFF_MIN
        while not self._closed.is_set():
            self.wake.wait(delay if self.outbox.events() else 5.0)
            self.wake.clear()
            if self._closed.is_set() or not self.outbox.events():
                continue
            try:
                self.flush()
                delay = BACKOFF_MIN
            except Transient:
                delay = min(max(delay * 2, BACKOFF_MIN), BACKOFF_MAX) * random.uniform(0.5, 1.0)
            except StoreError as exc:
                self._api.link.fail(str(exc))
                delay = BACKOFF_MAX
