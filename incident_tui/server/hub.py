"""One watcher thread per server between the blocking store and the event loop.

`store.wait` blocks, so no request may call it on the event loop. The hub's thread
calls it, pulls what is new, encodes each event once and wakes every asyncio waiter:
long polls and SSE streams then share one wait and serve pre-encoded bytes, and a
folded `Registry` is kept up to date for the incident endpoints.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from typing import TYPE_CHECKING

import orjson

from ..domain.events import Event
from ..domain.fold import Registry
from ..store import folded
from ..store.base import Store, StoreError

if TYPE_CHECKING:
    from ..gcpolicy import LogFreezer

log = logging.getLogger("incident_tui.server")
PROBE_INTERVAL = 1.0  # seconds between continuity checks of an idle store


class Hub:
    def __init__(
        self,
        store: Store,
        poll: float = 0.1,
        coalesce: float = 0.005,
        coalesce_max: float = 0.08,
        *,
        freezer: LogFreezer | None = None,
    ) -> None:
        self.store = store
        # The fold skips (and names) what it cannot fold; the log says so once per event.
        self.registry = Registry(warn=lambda message: log.warning("incident-tui: warning: %s", message))
        self.lock = threading.Lock()  # guards _lines and registry against the watcher thread
        self._lines: list[bytes] = []  # JSON of the event with seq _base + i + 1
        # Events up to _base are served from the store's own lines (a JSON store with an
        # index: the log's bytes by offset), so a million-event store starts in well under a
        # second instead of parsing and re-encoding every event (12.6 s, 1.57 GB measured).
        self._base = 0
        self._raw = getattr(store, "raw_lines", None)
        self._started = False
        self._poll = poll
        # Under load, wake streams at most every `coalesce` seconds: fifty streams woken for
        # every single append cost the server (and every client) a write and a read each;
        # a quiet log still delivers its first event at once. While every wake finds more
        # than one new event, the interval doubles up to `coalesce_max`: under bench_load's
        # 500 events/s the chunks a client parses (one per wake, each costing it far more
        # than the events in it) fell eightfold at 40 ms, and 80 ms took another ~10% off
        # the clients' ack p99 (three A/B pairs); one event at a time stays at `coalesce`.
        self._coalesce = coalesce
        self._coalesce_max = max(coalesce_max, coalesce)
        self._interval = coalesce
        self._last_notify = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed = asyncio.Event()
        self.closing = False
        # Set once the store stops holding the history this server streamed (its file was
        # replaced by another): every request is then refused 503 with this one line,
        # rather than acknowledging writes into one file while streaming another.
        self.split: str | None = None
        self._last_id: str | None = None
        self._last_error: str | None = None
        # The collector policy is the process's (serve passes one); the hub only says when
        # its log grew or went quiet.
        self._freezer = freezer

    @property
    def seq(self) -> int:
        return self._base + len(self._lines)

    def _start_from_index(self) -> bool:
        """Start from the store's index (a JSON store): its folded states plus the tail, the
        older lines served later from the log's own bytes. False: start by reading it all."""
        try:
            registry = folded(self.store)
            last = self.store.read(registry.last_seq - 1, 1) if registry.last_seq else []
        except StoreError:
            raise
        except Exception as exc:  # an event this version cannot fold: the tolerant path below
            log.warning("incident-tui: warning: starting without the store's index: %s", exc)
            return False
        for seq, reason in registry.skipped:  # folded without a listener: say each once now
            log.warning("incident-tui: warning: seq %s: skipped an event this version cannot fold: %s", seq, reason)
        registry.warn = self.registry.warn  # and each skipped live
        with self.lock:
            self.registry = registry
            self._base = registry.last_seq
            self._last_id = last[0].id if last else None
        if self._base:
            self._last_notify = time.monotonic()
            self._notify()
        return True

    def start(self) -> None:
        """Call on the event loop that serves requests."""
        self._loop = asyncio.get_running_loop()
        self._changed = asyncio.Event()
        self._pull()
        if self._freezer is not None:
            self._freezer.opened()  # the store as opened
        self._thread = threading.Thread(target=self._run, name="incident-tui-hub", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        last_probe = time.monotonic()
        while not self._stop.is_set():
            try:
                if self.split:
                    self._stop.wait(1.0)  # refusing loudly (see `split`): pull nothing more
                    continue
                if not self.store.wait(self.seq, self._poll):
                    if self._freezer is not None:
                        self._freezer.idle()
                    if time.monotonic() - last_probe >= PROBE_INTERVAL:
                        # A store replaced by a shorter one (or one as long) never wakes
                        # `wait`: look at what it holds at our seq now and then.
                        last_probe = time.monotonic()
                        self.check_continuity()
                else:
                    early = self._last_notify + self._interval - time.monotonic()
                    if early > 0:
                        self._stop.wait(early)
                    if self._pull() > 1:
                        self._interval = min(self._interval * 2, self._coalesce_max)
                    else:
                        self._interval = self._coalesce
            except StoreError as exc:  # e.g. the file vanished: say so, keep serving what we hold
                if str(exc) != self._last_error:  # once, not every second
                    log.error("incident-tui: store: %s", exc)
                    self._last_error = str(exc)
                self._stop.wait(1.0)
            except Exception:
                # Nothing may end this thread: without it the server would keep acknowledging
                # writes that no stream ever delivers.
                log.exception("incident-tui: the hub hit an unexpected error; it carries on")
                self._stop.wait(1.0)

    def _pull(self) -> int:
        seq = self.seq
        if not self._started:
            self._started = True  # once, at start: later pulls read only what is new
            if self._raw is not None and self._start_from_index():
                return self.seq
        # Read from our own last event: if the store no longer holds it there, the file was
        # replaced by another history, and extending ours with it would stream a split log.
        new = self.store.read(seq - 1) if seq else self.store.read(0)
        if seq:
            if not new or new[0].id != self._last_id:
                self._split(new[0].id if new else None, seq, self._last_id)
                return 0
            new = new[1:]
        if not new:
            return 0
        self._last_error = None
        # Copied to right-sized bytes: orjson's own result keeps a ~4 KiB allocation each
        # (measured: 118 MiB of RSS for 30k events, 5 MiB copied).
        lines = [_encode(e) for e in new]
        with self.lock:
            self._lines.extend(lines)
            self._last_id = new[-1].id  # with the lines: check_continuity reads both under the lock
            self._fold(new)
        # The whole log stays in memory for the server's life: keep full collections (which
        # stop every request) from walking it.
        if self._freezer is not None:
            self._freezer.held(len(new))
        self._last_notify = time.monotonic()
        self._notify()
        return len(new)

    def probe_seq(self) -> int:
        """The seq `check_continuity` looks at: our last streamed event's (0: none yet)."""
        with self.lock:
            return self._base + len(self._lines)

    def check_continuity(self, probed: tuple[int, Event | None] | None = None) -> str | None:
        """The `split` message if the store no longer holds our last event at its seq (it
        was replaced by a different history); safe from any thread. A replacement that
        continues our history (a copy with more appended, a migrate round trip) passes:
        the server follows it. `probed`: (seq, the event the store holds there) when the
        caller read it already, with its append; read here otherwise."""
        with self.lock:
            seq, last = self._base + len(self._lines), self._last_id
        if self.split or not seq:
            return self.split
        if probed is not None and probed[0] == seq:
            found = probed[1]
        else:
            got = self.store.read(seq - 1, 1)
            found = got[0] if got else None
        if found is None or found.id != last:
            self._split(found.id if found else None, seq, last)
        return self.split

    def _split(self, found: str | None, seq: int, last: str | None) -> None:
        with self.lock:
            if self.split:
                return
            what = f"holds event {found} there" if found else f"has fewer than {seq} events"
            self.split = (
                f"the store {self.store.location} was replaced under the server: it {what} where this "
                f"server streamed {last} (seq {seq}); writes are refused until serve is restarted"
            )
        log.error("incident-tui: %s", self.split)
        self._notify()  # streams end, so clients reconnect and see the refusal

    def _fold(self, new: list[Event]) -> None:
        """Fold `new` (caller holds the lock), skipping with a warning any event this version
        cannot fold (written by an older or broken writer, or straight into the file): the
        rest still fold and every line still streams."""
        apply = self.registry.apply
        for e in new:
            try:
                apply(e)
            except Exception as exc:
                log.warning("incident-tui: warning: seq %s (%s) cannot be folded, skipped: %s", e.seq, e.kind, exc)

    def _notify(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._wake)
            except RuntimeError:  # loop closed between the check and the call
                pass

    def _wake(self) -> None:
        ev, self._changed = self._changed, asyncio.Event()
        ev.set()

    def lines(self, after: int, limit: int, max_bytes: int | None = None) -> list[bytes]:
        """Lines of seq after+1.., at most `limit` of them and (past the first) `max_bytes`."""
        after = max(after, 0)
        got: list[bytes] = []
        if after < self._base and self._raw is not None and not self.split:
            # (Once split, the store's file is another history: never serve its lines as ours.)
            got = self._raw(after, min(limit, self._base - after))
            after += len(got)
            limit -= len(got)
        if limit > 0:
            with self.lock:
                start = after - self._base
                got += self._lines[start : start + limit]
        if max_bytes is not None:
            size = 0
            for i, line in enumerate(got):
                size += len(line)
                if size > max_bytes and i:
                    return got[:i]
        return got

    async def wait(self, after: int, timeout: float) -> bool:
        """True once an event with seq > after is held; False on timeout or shutdown."""
        deadline = time.monotonic() + timeout
        while self.seq <= after and not self.closing:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except TimeoutError:
                return False
        return self.seq > after

    def close(self) -> None:
        """Ends streams and long polls and stops the watcher; safe from any thread."""
        self.closing = True
        self._stop.set()
        self._notify()

    def join(self, timeout: float = 2.0) -> None:
        if self._thread is not None:
            self._thread.join(timeout)


def _encode(e: Event) -> bytes:
    """The event's JSON line for every stream. An event the store already holds always gets
    a line (a stream's ids must stay gap-free): one orjson cannot encode (nesting past 254
    levels, written into the file by hand) falls back to the standard library, and failing
    that to its envelope with empty data, which every reader skips as unfoldable."""
    try:
        return bytes(memoryview(orjson.dumps(e.to_dict())))
    except (TypeError, ValueError):
        pass
    try:
        return json.dumps(e.to_dict(), ensure_ascii=False, separators=(",", ":")).encode("utf-8", "backslashreplace")
    except (TypeError, ValueError, RecursionError) as exc:
        log.warning("incident-tui: warning: seq %s cannot be encoded, streamed without its data: %s", e.seq, exc)
        return orjson.dumps({**e.to_dict(), "data": {}})
