"""Group commit: appends that arrive while one is being written go to the store together.

Each store append takes the file lock and an fsync; fifty clients posting at once would
queue for them one by one. Here one writer runs at a time in a worker thread, and every
request that arrived meanwhile joins the next batch: one lock and one fsync for all of
them, each request still answered with exactly its own events (in order, ids kept
idempotent by the store)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from starlette.concurrency import run_in_threadpool

from ..domain.events import Event
from ..store.base import Store

MAX_BATCH = 5000  # events a single store append may carry


class Committer:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._queue: list[tuple[Sequence[Event], asyncio.Future[list[Event]]]] = []
        self._task: asyncio.Task[None] | None = None

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
                stored = await run_in_threadpool(self.store.append, flat)
            except Exception as exc:
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            i = 0
            for events, fut in batch:
                if not fut.done():  # the client may have gone; its events are stored all the same
                    fut.set_result(stored[i : i + len(events)])
                i += len(events)
