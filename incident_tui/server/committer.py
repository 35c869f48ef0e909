"""Group commit: appends that arrive while one is being written go to the store together.

Each store append takes the file lock and an fsync; fifty clients posting at once would
queue for them one by one. Here one writer runs at a time in a worker thread, and every
request that arrived meanwhile joins the next batch: one lock and one fsync for all of
them, each request still answered with exactly its own events (in order, ids kept
idempotent by the store).

One request's failure is its own: when a joint append fails, each request of the batch
is appended again alone (ids make that safe), so an event the store refuses fails only
the request that carried it, never the neighbours it happened to be batched with."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from starlette.concurrency import run_in_threadpool

from ..domain.events import Event
from ..store.base import Store, StoreError

MAX_BATCH = 5000  # events a single store append may carry


Probed = tuple[int, Event | None]


class Committer:
    def __init__(
        self,
        store: Store,
        check: Callable[[Probed | None], str | None] | None = None,
        probe_seq: Callable[[], int] | None = None,
    ) -> None:
        """`check`, run after each append in the same worker thread, names a reason not to
        acknowledge what was just stored (the hub's `check_continuity`: the store file
        was replaced, so the events went into a log no stream of this server shows). A
        store that can read the event at `probe_seq()` with its append (PostgreSQL, in one
        round trip) hands it to `check`, which then reads nothing itself."""
        self.store = store
        self._check = check
        self._probe_seq = probe_seq
        self._queue: list[tuple[Sequence[Event], asyncio.Future[list[Event]]]] = []
        self._task: asyncio.Task[None] | None = None

    def _append(self, events: Sequence[Event]) -> list[Event]:
        probing = getattr(self.store, "append_probing", None)
        seq = self._probe_seq() if probing is not None and self._probe_seq is not None else 0
        probed: Probed | None = None
        if seq:
            stored, found = probing(events, seq)  # type: ignore[misc]
            probed = (seq, found)
        else:
            stored = self.store.append(events)
        if self._check is not None and (reason := self._check(probed)):
            raise StoreError(reason)
        return stored

    async def append(self, events: Sequence[Event]) -> list[Event]:
        fut: asyncio.Future[list[Event]] = asyncio.get_running_loop().create_future()
        self._queue.append((events, fut))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())
        return await fut

    async def _drain(self) -> None:
        while self._queue:
            batch, size = [], 0
            while self._queue and (not batch or size + len(self._queue[0][0]) <= MAX_BATCH):
                item = self._queue.pop(0)
                batch.append(item)
                size += len(item[0])
            flat = [e for events, _ in batch for e in events]
            try:
                stored = await run_in_threadpool(self._append, flat)
            except Exception as exc:
                if len(batch) == 1:
                    _settle(batch[0][1], exc=exc)
                    continue
                for events, fut in batch:
                    try:
                        alone = await run_in_threadpool(self._append, events)
                    except Exception as exc:
                        _settle(fut, exc=exc)
                    else:
                        _settle(fut, alone)
                continue
            i = 0
            for events, fut in batch:
                _settle(fut, stored[i : i + len(events)])
                i += len(events)


def _settle(
    fut: asyncio.Future[list[Event]], result: list[Event] | None = None, exc: BaseException | None = None
) -> None:
    if fut.done():  # the client may have gone; its events are stored all the same
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(result or [])
