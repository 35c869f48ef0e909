"""The documents the server renders: in a worker thread when small, in a child process when big.

A postmortem reads every entry of its incident: at a million entries that is seconds of
CPU, and in a thread of the server those seconds hold the GIL (a C-level step such as
sorting a million rows holds it from start to end), so /health, every acknowledgement
and every stream wait behind it (bench/bench_scale.py: /health p99 0.8-1 s while one
renders). Over a JSON store file, a document of an incident with more than
`PROCESS_ROWS` entries is rendered by a child process that opens the store file itself,
reads that incident's rows through the store's index, and hands back the document's
bytes: the server's process only waits on a pipe. Below that size (and over a store that
is no file: PostgreSQL, memory) a thread renders it in milliseconds, from a copy of the
state taken under the hub's lock.

Each render gets a fresh process (spawned: the server runs threads, which a fork would
copy mid-step), so the memory a million-row document takes is returned when it is done.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from typing import Literal

from starlette.concurrency import run_in_threadpool

from ..domain.checklists import Runbooks
from ..domain.fold import IncidentState
from ..store.base import Store

PROCESS_ROWS = 20_000  # entries; a document this size renders in a thread in ~0.1 s
CHILDREN = 2  # child renders at a time (each holds its incident: ~1 GB at a million entries); more wait
Kind = Literal["postmortem", "snapshot"]


def render(kind: Kind, state: IncidentState, runbooks: Runbooks, now: datetime, fmt: str, at_seq: int | None) -> str:
    """The document, from a folded state (its timeline read once, whatever its source)."""
    from ..docs import incident_snapshot, postmortem_document, postmortem_json

    if kind == "snapshot":
        return incident_snapshot(state, runbooks, now, fmt, at_seq)  # type: ignore[arg-type]
    state.timeline = list(state.timeline)  # an index's rows are read from the log: once, in bulk
    return (postmortem_json if fmt == "json" else postmortem_document)(state, runbooks, now)


def render_from_file(
    path: str, incident_id: str, kind: Kind, runbooks: Runbooks, now: datetime, fmt: str, at_seq: int | None
) -> bytes:
    """In the child process: open the store file, fold (from its index) and render."""
    from .. import gcpolicy
    from ..docs import IncidentNotFound
    from ..store.jsonfile import JsonStore

    gcpolicy.short_lived()  # this process ends with the document
    # A document is a batch job: on a busy host the server's acknowledgements, streams and
    # /health come first (bench_scale: /health p99 28 ms at the same priority on 2 cores).
    os.nice(10)
    store = JsonStore(path)
    try:
        state = store.registry().incidents.get(incident_id)
        if state is None:
            raise IncidentNotFound(f"incident {incident_id} is not in {path}")
        return render(kind, state, runbooks, now, fmt, at_seq).encode()
    finally:
        store.close()


class Renderer:
    """Renders the server's documents; `close` at shutdown ends a child still rendering."""

    def __init__(self, store: Store) -> None:
        from ..store.jsonfile import JsonStore

        self.path = str(store.path) if isinstance(store, JsonStore) else None
        self.process_rows = PROCESS_ROWS
        self._pools: set[ProcessPoolExecutor] = set()
        self._children = asyncio.Semaphore(CHILDREN)

    def in_process(self, state: IncidentState) -> bool:
        """Whether `state`'s documents are rendered in a child process."""
        return self.path is not None and len(state.timeline) > self.process_rows

    async def render(
        self, kind: Kind, state: IncidentState, runbooks: Runbooks, now: datetime, fmt: str, at_seq: int | None
    ) -> str | bytes:
        """`state` must be a copy the caller may hand away (taken under the hub's lock)."""
        if self.path is None or not self.in_process(state):
            return await run_in_threadpool(render, kind, state, runbooks, now, fmt, at_seq)
        async with self._children:
            pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
            self._pools.add(pool)
            try:
                job = pool.submit(render_from_file, self.path, state.id, kind, runbooks, now, fmt, at_seq)
                return await asyncio.wrap_future(job)
            finally:
                self._pools.discard(pool)
                pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        for pool in list(self._pools):
            for proc in list(getattr(pool, "_processes", {}).values()):
                proc.kill()  # a render the server no longer waits for
            pool.shutdown(wait=False, cancel_futures=True)
