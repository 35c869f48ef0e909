"""The shared JSON store: one append-only file of JSON lines, for many processes on one host.

Why not TinyDB's own JSONStorage: it rewrites and fsyncs the whole file on every
insert (140 ms at 50k documents), takes no lock and caches document ids per process,
so two processes lose each other's writes. Here every write appends only its own
lines under a blocking `fcntl.flock` on a side lock file and fsyncs before it is
acknowledged, so an append costs about what a plain O_APPEND write does at any size.
`EventLogStorage` (tinydb_storage.py) opens the same file through TinyDB's API.

File layout: a header line, then one event a line with `seq` first:

    {"format": "incident-tui/events", "version": 1}
    {"seq":1,"id":"...","incident":"...","at":"...","author":"...","kind":"...","data":{...}}

Crash safety: a writer holds the lock from write to fsync, so bytes after the last
newline can only be a write that died before it was acknowledged (a torn tail); the
next writer (or an open) saves them beside the file and truncates them, with a
warning. Readers never take the lock and only ever consume complete lines.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import orjson

from ..domain.events import Event, EventError, stored_event
from .base import LinkState, StoreCorrupt, StoreError

# orjson (a declared dependency) parses a 100k-event file about 3x faster than json.
_loads = orjson.loads
_dumps = orjson.dumps


HEADER = {"format": "incident-tui/events", "version": 1}
HEADER_LINE = json.dumps(HEADER).encode() + b"\n"
# How often a waiter looks at the file's size and inode (never its contents);
# an os.stat is about a microsecond, so 100 Hz costs nothing and keeps notice < 50 ms.
POLL_INTERVAL = 0.01
_EVENT_PREFIX = b'{"seq":'


def _warn(message: str) -> None:
    print(f"incident-tui: warning: {message}", file=sys.stderr)


def _is_torn(tail: bytes) -> bool:
    """Bytes after the last newline that a writer dying mid-append could leave."""
    t = tail.rstrip(b"\0")
    return not t or t.startswith(_EVENT_PREFIX) or _EVENT_PREFIX.startswith(t)


class JsonStore:
    def __init__(self, path: str | os.PathLike[str], *, warn: Callable[[str], None] = _warn) -> None:
        self.path = Path(path).expanduser()
        self.location = str(self.path)
        self._warn = warn
        self._events: list[Event] = []
        self._by_id: dict[str, Event] = {}
        self._offset = 0  # bytes of complete lines consumed
        self._lines = 0  # complete lines consumed (for error messages)
        self._ino: int | None = None
        self._rfd: int | None = None
        self._wfd: int | None = None
        self._cond = threading.Condition()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lockfd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o660)
        except OSError as exc:
            raise StoreError(f"cannot open store {self.path}: {exc.strerror}") from None
        with self._cond:
            # Parse without the lock first: a corrupt file is then reported untouched.
            if self.path.exists() and self.path.stat().st_size > 0:
                self._catch_up()
            with self._flock():
                self._create_if_missing()
                self._catch_up(repair=True)

    # -- locking and file handles ------------------------------------------------

    def _flock(self) -> _FileLock:
        return _FileLock(self._lockfd)

    def _create_if_missing(self) -> None:
        """Under the lock: a missing or empty file becomes a store holding only its header."""
        if self.path.exists() and self.path.stat().st_size > 0:
            return
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o660)
        try:
            os.write(fd, HEADER_LINE)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        dfd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)  # the new name survives a power cut too
        finally:
            os.close(dfd)

    def _reset(self) -> None:
        for fd in (self._rfd, self._wfd):
            if fd is not None:
                os.close(fd)
        self._rfd = self._wfd = None
        self._events, self._by_id = [], {}
        self._offset = self._lines = 0
        self._ino = None

    # -- reading -------------------------------------------------------------------

    def _catch_up(self, repair: bool = False) -> None:
        """Consume complete lines appended since the last look (caller holds _cond).

        With `repair` (only under the file lock), bytes after the last newline are a
        torn write of a dead writer and are cut off."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise StoreError(f"store file {self.path} has disappeared") from None
        if st.st_ino != self._ino or st.st_size < self._offset:
            self._reset()  # replaced or shrunk behind our back: reload from the top
            self._rfd = os.open(self.path, os.O_RDONLY)
            self._ino = os.fstat(self._rfd).st_ino
        if st.st_size == self._offset:
            return
        assert self._rfd is not None
        chunk = os.pread(self._rfd, st.st_size - self._offset, self._offset)
        end = chunk.rfind(b"\n") + 1
        if end:
            self._consume(chunk[:end])
        tail = chunk[end:]
        if tail and repair:
            self._repair(tail)

    def _consume(self, block: bytes) -> None:
        """Parse complete lines. This is the whole cost of opening a store (100k events),
        so it checks only what the fold relies on: appends validated everything else."""
        lines = block.split(b"\n")
        lines.pop()  # the block ends with a newline
        first = self._lines
        start = 0
        if first == 0:
            try:
                header = _loads(lines[0])
            except ValueError:
                header = None
            if header != HEADER:
                raise StoreCorrupt(f"{self.path}:1: not an incident-tui event store (first line is not its header)")
            start = 1
        self._parse(lines, start, first)
        self._lines = first + len(lines)
        self._offset += len(block)

    def _parse(self, lines: list[bytes], start: int, first: int) -> None:
        events, by_id = self._events, self._by_id
        append, loads = events.append, _loads
        due = len(events) + 1
        for i in range(start, len(lines)):
            try:
                event = stored_event(loads(lines[i]))
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                reason = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
                raise StoreCorrupt(f"{self.path}:{first + i + 1}: unreadable event: {reason}") from None
            if event.seq != due:
                raise StoreCorrupt(f"{self.path}:{first + i + 1}: seq {event.seq} where {due} was due")
            due += 1
            append(event)
            if event.id not in by_id:
                by_id[event.id] = event

    def _repair(self, tail: bytes) -> None:
        where = f"{self.path}:{self._lines + 1}"
        if not _is_torn(tail):
            raise StoreCorrupt(f"{where}: unfinished last line that is not an event")
        saved = self.path.with_name(f"{self.path.name}.torn-{time.time_ns()}")
        saved.write_bytes(tail)
        os.truncate(self.path, self._offset)
        self._warn(
            f"{where}: repaired a torn write ({len(tail)} bytes of an append that never "
            f"completed, kept in {saved.name})"
        )

    def read(self, after: int = 0, limit: int | None = None) -> list[Event]:
        with self._cond:
            self._catch_up()
            end = None if limit is None else max(after, 0) + limit
            return self._events[max(after, 0) : end]

    def latest_seq(self) -> int:
        with self._cond:
            self._catch_up()
            return len(self._events)

    def wait(self, after: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                self._catch_up()
                if len(self._events) > after:
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                # Woken at once by an append in this process, else by the stat poll.
                self._cond.wait(min(POLL_INTERVAL, left))

    # -- writing ---------------------------------------------------------------------

    def append(self, events: Sequence[Event]) -> list[Event]:
        for e in events:
            try:
                Event.from_dict(e.to_dict())
            except EventError as exc:
                raise StoreError(f"refused event {e.id}: {exc}") from None
        with self._cond:
            with self._flock():
                self._catch_up(repair=True)
                out: list[Event] = []
                fresh: list[Event] = []
                lines: list[bytes] = []
                batch: dict[str, Event] = {}
                seq = len(self._events)
                for e in events:
                    stored = self._by_id.get(e.id) or batch.get(e.id)
                    if stored is None:
                        seq += 1
                        stored = replace(e, seq=seq)
                        batch[e.id] = stored
                        fresh.append(stored)
                        try:
                            lines.append(_dumps(stored.to_dict()) + b"\n")
                        except (TypeError, ValueError) as exc:  # e.g. lone surrogates
                            raise StoreError(f"refused event {e.id}: {exc}") from None
                    out.append(stored)
                if lines:
                    self._write_durably(b"".join(lines))
                    for stored in fresh:
                        self._events.append(stored)
                        self._by_id[stored.id] = stored
                    self._lines += len(lines)
            self._cond.notify_all()
        return out

    def _write_durably(self, data: bytes) -> None:
        if self._wfd is None:
            self._wfd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        view = memoryview(data)
        try:
            while view:
                n = os.write(self._wfd, view)
                view = view[n:]
            os.fsync(self._wfd)
        except OSError as exc:
            # Leave the file as a torn tail for the next writer to repair, never half-acknowledged.
            raise StoreError(f"cannot write store {self.path}: {exc.strerror}") from None
        self._offset += len(data)

    # -- the rest of the protocol ---------------------------------------------------

    def link_state(self) -> LinkState:
        return "local"

    def pending(self) -> list[Event]:
        return []

    def close(self) -> None:
        with self._cond:
            self._reset()
            if self._lockfd is not None:
                os.close(self._lockfd)
                self._lockfd = None  # type: ignore[assignment]

    def __enter__(self) -> JsonStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _FileLock:
    """A blocking flock: contended hand-over takes milliseconds, where polling locks take up to 1 s."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __enter__(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
