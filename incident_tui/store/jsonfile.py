"""The shared JSON store: one append-only file of JSON lines, for many processes on one host.

Why not TinyDB's own JSONStorage: it rewrites and fsyncs the whole file on every
insert (140 ms at 50k documents), takes no lock and caches document ids per process,
so two processes lose each other's writes. Here every write appends only its own
lines under a blocking `fcntl.flock` on the store file itself and fsyncs before it is
acknowledged, so an append costs about what a plain O_APPEND write does at any size.
`EventLogStorage` (tinydb_storage.py) opens the same file through TinyDB's API.

File layout: a header line, then one event a line with `seq` first:

    {"format": "incident-tui/events", "version": 1}
    {"seq":1,"id":"...","incident":"...","at":"...","author":"...","kind":"...","data":{...}}
    {"seq":2,"more":1,"id":"...",...}      <- one command's events: stored all or none
    {"seq":3,"id":"...",...}

Crash safety: a writer holds the lock (on the store file itself, logfile.py) from write
to fsync, so bytes after the last newline, or lines at the end that say `more` follow
when none does, can only be a write that died before it was
acknowledged (a torn tail); readers treat them as not written, and the next writer (or
an open) saves them beside the file and truncates them, with a warning. A write that
fails (a full disk) is cut back at once. Readers never take the lock and only ever
consume complete lines of complete batches.
"""

from __future__ import annotations

import json
import os
import re
import stat
import threading
import time
from array import array
from collections.abc import Callable, Sequence
from dataclasses import replace
from itertools import accumulate
from pathlib import Path

import orjson

from ..domain.events import Event, EventError, placeholder_event, stored_event
from ..domain.fold import Registry
from . import index as _index
from .base import LinkState, StoreCorrupt, StoreError
from .files import warn, write_all, write_new
from .logfile import StoreLock, open_store, write_error

# orjson (a declared dependency) parses a 100k-event file about 3x faster than json.
_loads = orjson.loads
_dumps = orjson.dumps


HEADER = {"format": "incident-tui/events", "version": 1}
HEADER_LINE = json.dumps(HEADER).encode() + b"\n"
# How often a waiter looks at the file's size and inode (never its contents);
# an os.stat is about a microsecond, so 100 Hz costs nothing and keeps notice < 50 ms.
POLL_INTERVAL = 0.01
_EVENT_PREFIX = b'{"seq":'
# The mark every line of a batch but its last carries after its seq (stripped from what a
# server streams). Marking the members, not announcing a count, bounds what a forged or
# damaged mark can hide to the lines after it at the very end of the log.
_SEQ_FIRST = re.compile(rb'\{"seq":(\d{1,18})[,}]')
_BATCH_MARK = re.compile(rb'^(\{"seq":\d+),"more":1')
# Below this size a store is parsed whole at open (5k events: ~30 ms); above it the index
# (index.py) is built once and then read instead. Tests pass 0 to index every store.
INDEX_MIN_BYTES = 1 << 20
# The index is rewritten at open when the log has grown this much past it, so the tail
# folded at each open stays small (~10 ms) and a rewrite is paid once per that many lines.
INDEX_REFRESH_LINES = 2000
_BUILD_CHUNK = 8 << 20  # bytes of log parsed at a time while building an index


def _line_of(e: Event) -> bytes:
    """An event's JSON line; one orjson cannot encode (nesting past 254 levels, left by an
    older writer) falls back to the standard library, then to its envelope without data."""
    try:
        return _dumps(e.to_dict())
    except (TypeError, ValueError):
        pass
    try:
        return json.dumps(e.to_dict(), ensure_ascii=False, separators=(",", ":")).encode("utf-8", "backslashreplace")
    except (TypeError, ValueError, RecursionError):
        return _dumps({**e.to_dict(), "data": {}})


def _is_torn(tail: bytes) -> bool:
    """Bytes after the last whole line that a writer dying mid-append could leave (after a
    power cut: pages of zeros where the data never reached the disk, newlines among them)."""
    t = tail.strip(b"\0\n")
    return not t or tail.lstrip(b"\0\n").startswith(_EVENT_PREFIX) or _EVENT_PREFIX.startswith(t)


class JsonStore:
    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        warn: Callable[[str], None] = warn,
        index_min_bytes: int | None = None,
    ) -> None:
        self.path = Path(path).expanduser()
        self.location = str(self.path)
        self._warn = warn
        self._index_min = INDEX_MIN_BYTES if index_min_bytes is None else index_min_bytes
        self._index: _index.LogIndex | None = None
        self._base = 0  # events (seq 1.._base) left in the log, reachable through _index
        self._starts = array("Q")  # with an index: where each held event's line starts
        self._events: list[Event] = []  # seq _base+1 onwards
        self._by_id: dict[str, Event] = {}
        self._offset = 0  # bytes of complete lines consumed
        self._lines = 0  # complete lines consumed (for error messages)
        self._ino: int | None = None
        self._cut: str | None = None  # why this process stopped trusting the file, for good
        self._rfd: int | None = None
        self._cond = threading.Condition()
        fd, read_only = open_store(self.path)
        self._lock = StoreLock(self.path, fd, read_only)
        with self._cond:
            try:
                self._open()
            except BaseException:
                self.close()
                raise

    def _open(self) -> None:
        # Parse without the lock first: a corrupt file is then reported untouched.
        if os.fstat(self._lock.fd).st_size > 0:
            self._open_indexed()
            self._catch_up()
        if self._lock.read_only is None:
            with self._lock:
                self._write_header_if_empty()
                self._catch_up(repair=True)
        else:
            self._catch_up()
            if self._unread():
                self._warn(
                    f"{self.path}:{self._lines + 1}: an unfinished last write is left for a writer "
                    f"to repair (this process may only read the store: {self._lock.read_only})"
                )
        self._refresh_index()

    # -- file handles ------------------------------------------------------------

    def _reopen(self) -> None:
        """The read descriptor on what the path names now; never blocks (a FIFO put there)."""
        fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            raise StoreError(f"store {self.path} is no longer a regular file; give the path of a store file")
        self._rfd, self._ino = fd, st.st_ino

    def _write_header_if_empty(self) -> None:
        """Under the lock: an empty file (just created, here or by another process) gets
        the header; so does one holding only part of it (a creator that died mid-write)."""
        fd = self._lock.fd
        try:
            size = os.fstat(fd).st_size
            if size >= len(HEADER_LINE) or (size and not HEADER_LINE.startswith(os.pread(fd, size, 0))):
                return  # a store already, or something the header check refuses untouched
            if size:
                os.ftruncate(fd, 0)
            os.write(fd, HEADER_LINE)
            os.fsync(fd)
        except OSError as exc:
            raise write_error(self.path, exc) from None

    def _unread(self) -> bool:
        try:
            return os.stat(self.path).st_size > self._offset
        except OSError:
            return False

    def _reset(self) -> None:
        if self._rfd is not None:
            os.close(self._rfd)
        self._rfd = None
        self._events, self._by_id = [], {}
        self._offset = self._lines = 0
        self._ino = None
        self._index, self._base, self._starts = None, 0, array("Q")

    # -- the index (index.py): derived, disposable, verified against the log ------------

    def _open_indexed(self) -> None:
        """At open (caller holds _cond): start from the index, after building it if the
        log is big enough to need one. A corrupt log raises StoreCorrupt here, untouched."""
        self._reopen()
        assert self._rfd is not None
        st = os.fstat(self._rfd)
        if st.st_size < self._index_min:
            return
        idx = _index.LogIndex.load(str(self.path), self._rfd)
        if idx is None:
            self._build_index(st.st_size)
            idx = _index.LogIndex.load(str(self.path), self._rfd)
        if idx is not None:
            self._adopt_index(idx)

    def _adopt_index(self, idx: _index.LogIndex) -> None:
        self._index = idx
        self._base = idx.last_seq
        self._offset = idx.offset
        self._lines = idx.lines
        self._events, self._by_id, self._starts = [], {}, array("Q")

    def _drop_index(self, damaged: bool = True) -> None:
        """Hold the whole log instead of the index (which, if damaged, the next open rebuilds)."""
        idx, self._index = self._index, None
        if idx is None or self._base == 0:
            return
        events = self._parse_range(self._header_end(), idx.offset, 1)
        self._events = events + self._events
        by_id = {e.id: e for e in reversed(events)}  # the first copy of an id wins
        by_id.update((k, v) for k, v in self._by_id.items() if k not in by_id)
        self._by_id, self._base, self._starts = by_id, 0, array("Q")
        if damaged:
            try:
                os.unlink(_index.index_path(self.path))
            except OSError:
                pass

    def _parse_range(self, start: int, end: int, due: int) -> list[Event]:
        assert self._rfd is not None
        block = os.pread(self._rfd, end - start, start)
        lines = block.split(b"\n")
        lines.pop()
        return _parse_lines(self.path, lines, 0, due, due)[0]

    def _header_end(self) -> int:
        assert self._rfd is not None
        return os.pread(self._rfd, 4096, 0).find(b"\n") + 1

    def _build_index(self, size: int) -> None:
        """Fold the whole log a chunk at a time, keeping only what the index needs."""
        assert self._rfd is not None
        offsets = array("Q")
        keys = array("Q")
        reg = Registry()
        pos, lines_seen, due = 0, 0, 1
        rfd = self._rfd
        while pos < size:
            chunk = os.pread(rfd, min(_BUILD_CHUNK, size - pos), pos)
            end = chunk.rfind(b"\n") + 1
            if not end:
                if len(chunk) < _BUILD_CHUNK:
                    break  # only a torn tail is left
                chunk = os.pread(rfd, size - pos, pos)  # one line longer than a chunk
                end = chunk.rfind(b"\n") + 1
                if not end:
                    break
            lines = chunk[:end].split(b"\n")
            lines.pop()
            last = pos + len(chunk) >= size  # this chunk reaches the end of the log
            if last:
                end -= _drop_trailing_zeros(lines, 1 if lines_seen == 0 else 0)
                if not lines:
                    break
            start = 0
            if lines_seen == 0:
                _check_header(self.path, lines[0])
                start = 1
            # Only the log's own end may hold an unfinished batch; a chunk's end is mid-log.
            events, whole = _parse_lines(self.path, lines, start, lines_seen, due, tail=last)
            if whole < len(lines):
                end -= sum(len(x) + 1 for x in lines[whole:])
                del lines[whole:]
            ends = list(accumulate((len(x) + 1 for x in lines), initial=pos))
            offsets.extend(ends[start:-1])
            keys.extend(_index.id_key(e.id, e.seq or 0) for e in events)
            try:
                touched = reg.extend(events)
            except Exception:  # an event this fold cannot take: no index, the log is read as before
                return
            for incident in touched:
                state = reg.incidents[incident]
                if not isinstance(state.timeline, _index.LogRows):
                    state.timeline = _index.SeqRows(state.timeline)  # type: ignore[assignment]
            due += len(events)
            lines_seen += len(lines)
            pos += end
        if lines_seen == 0:
            return
        offsets.append(pos)
        _index.write_index(
            str(self.path), rfd, offset=pos, lines=lines_seen, registry=reg, offsets=offsets, keys=sorted(keys)
        )

    def _refresh_index(self) -> None:
        """At open: rewrite the index when the log has grown well past it."""
        idx = self._index
        if idx is None or len(self._events) < INDEX_REFRESH_LINES or self._rfd is None:
            return
        try:
            reg = self.registry()
            offsets = array("Q", idx.section("offsets"))
            offsets.pop()
            offsets.extend(self._starts)
            offsets.append(self._offset)
            keys = sorted([*idx.section("ids"), *(_index.id_key(e.id, e.seq or 0) for e in self._events)])
        except _index._Damaged:
            self._drop_index()
            return
        _index.write_index(
            str(self.path), self._rfd, offset=self._offset, lines=self._lines, registry=reg, offsets=offsets, keys=keys
        )
        fresh = _index.LogIndex.load(str(self.path), self._rfd)
        if fresh is not None and fresh.offset == self._offset:
            held = self._events
            self._adopt_index(fresh)
            del held

    def _materialize(self) -> None:
        """Hold every event (a read from before the index's end): parse the indexed prefix.
        The index stays, for `registry()`; the log's own lines are what `read` returns."""
        idx = self._index
        self._drop_index(damaged=False)
        if idx is not None:
            self._index = idx  # still right for registry(); only unlinked if damaged

    def _stored(self, event_id: str) -> Event | None:
        """The stored event with this id (caller holds _cond)."""
        found = self._by_id.get(event_id)
        if found is None and self._base and self._index is not None:
            try:
                found = self._index.find(event_id)
            except _index._Damaged:
                self._drop_index()
                found = self._by_id.get(event_id)
        return found

    def registry(self) -> Registry:
        """The fold of the whole store, fresh: from the index plus the tail when there is one
        (timelines then read their older rows from the log by position), else from the events."""
        with self._cond:
            self._catch_up()
            if self._index is not None and self._base:
                try:
                    reg = self._index.registry()
                except (_index._Damaged, OSError):
                    self._drop_index()
                else:
                    reg.extend(self._events)
                    return reg
            reg = Registry()
            reg.extend(self._events)
            return reg

    # -- reading -------------------------------------------------------------------

    def _catch_up(self, repair: bool = False) -> None:
        """Consume complete lines appended since the last look (caller holds _cond).

        With `repair` (only under the file lock), bytes after the last newline are a
        torn write of a dead writer and are cut off."""
        if self._cut is not None:
            raise StoreError(self._cut)  # for good: a file grown back to the old size is not that history
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise StoreError(f"store file {self.path} has disappeared") from None
        if st.st_ino == self._ino and st.st_size < self._offset:
            # Cut behind our back (a repair only ever cuts past the lines read): what was read
            # and acknowledged here is gone, and appending would give its seqs to new events.
            self._cut = (
                f"store {self.path} shrank from {self._offset} to {st.st_size} bytes behind this process: "
                "its history was cut; restore it, then start again"
            )
            raise StoreError(self._cut)
        if st.st_ino != self._ino:
            self._reset()  # replaced (a tool renamed a new file over it): read it from the top
            self._reopen()
        if st.st_size == self._offset:
            return
        assert self._rfd is not None
        chunk = os.pread(self._rfd, st.st_size - self._offset, self._offset)
        end = chunk.rfind(b"\n") + 1
        if end:
            end = self._consume(chunk[:end])
        tail = chunk[end:]
        if tail and repair:
            self._repair(tail)

    def _consume(self, block: bytes) -> int:
        """Parse complete lines, up to an unfinished batch at the end; returns the bytes
        consumed. This is the whole cost of opening a store (100k events), so it checks
        only what the fold relies on: appends validated everything else."""
        lines = block.split(b"\n")
        lines.pop()  # the block ends with a newline
        first = self._lines
        held_back = _drop_trailing_zeros(lines, 1 if first == 0 else 0)
        start = 0
        if first == 0:
            _check_header(self.path, lines[0])
            start = 1
        events, whole = _parse_lines(self.path, lines, start, first, self._base + len(self._events) + 1, tail=True)
        size = len(block) - held_back
        if whole < len(lines):
            size -= sum(len(x) + 1 for x in lines[whole:])
            del lines[whole:]
        by_id = self._by_id
        for event in events:
            if event.id not in by_id:
                by_id[event.id] = event
        self._events.extend(events)
        if self._index is not None and lines:
            self._starts.extend(accumulate((len(x) + 1 for x in lines[:-1]), initial=self._offset))
        self._lines = first + len(lines)
        self._offset += size
        return size

    def _repair(self, tail: bytes) -> None:
        """Under the lock: what follows the last whole line or batch is a write that died."""
        where = f"{self.path}:{self._lines + 1}"
        last = tail[tail.rfind(b"\n") + 1 :]
        if last and _whole_event(last):
            # A complete last line missing only its newline (an editor, another tool): kept.
            self._write_durably(b"\n", count=False)
            self._warn(f"{where}: added the newline missing after the last event")
            self._catch_up(repair=True)
            return
        if not _is_torn(tail):
            raise StoreCorrupt(f"{where}: unfinished last line that is not an event")
        saved = self.path.with_name(f"{self.path.name}.torn-{time.time_ns()}")
        try:
            write_new(saved, tail)
            kept = f"kept in {saved.name}"
        except OSError as exc:
            kept = f"not kept: {exc.strerror}"
            if not isinstance(exc, FileExistsError):
                try:
                    saved.unlink()  # no empty or partial copy left behind (a full disk)
                except OSError:
                    pass
        try:
            os.ftruncate(self._lock.fd, self._offset)
        except OSError as exc:
            raise write_error(self.path, exc) from None
        what = "a command's events never completed" if b"\n" in tail else "an append that never completed"
        self._warn(f"{where}: repaired a torn write ({len(tail)} bytes of {what}, {kept})")

    def read(self, after: int = 0, limit: int | None = None) -> list[Event]:
        with self._cond:
            self._catch_up()
            after = max(after, 0)
            out: list[Event] = []
            if after < self._base:
                # Lines the index covers: parsed from the log for this read, not held.
                last = self._base if limit is None else min(self._base, after + limit)
                got = self._read_indexed(after, last)
                if got is None:  # the index failed a check: every event is held now
                    return self.read(after, limit)
                out, after = got, last
                limit = None if limit is None else limit - len(got)
            start = after - self._base
            end = None if limit is None else start + limit
            return out + self._events[start:end] if out else self._events[start:end]

    def _read_indexed(self, after: int, last: int) -> list[Event] | None:
        idx = self._index
        if idx is None:
            return None
        try:
            offsets = idx.section("offsets")
        except _index._Damaged:
            self._drop_index()
            return None
        if last <= after:
            return []
        return self._parse_range(offsets[after], offsets[last], after + 1)

    def raw_lines(self, after: int, limit: int) -> list[bytes]:
        """The stored JSON of events after seq `after` (at most `limit`), without parsing
        them: what a server streams. Lines of the indexed prefix come straight from the log
        (one read, by the index's offsets); later ones are encoded as `append` writes them."""
        with self._cond:
            after = max(after, 0)
            out: list[bytes] = []
            idx = self._index
            if after < self._base and idx is not None:
                last = min(self._base, after + limit)
                try:
                    offsets = idx.section("offsets")
                except _index._Damaged:
                    self._drop_index()
                else:
                    assert self._rfd is not None
                    first = offsets[after]
                    block = os.pread(self._rfd, offsets[last] - first, first)
                    out = block.split(b"\n")
                    out.pop()
                    if b'"more":1' in block:
                        out = [_BATCH_MARK.sub(rb"\1", x, count=1) for x in out]
                    _readable(out, after + 1)
                    after = last
            if after < self._base:  # the index went away meanwhile: events are held now
                self._materialize()
            start = after - self._base
            out.extend(_line_of(e) for e in self._events[start : start + limit - len(out)])
            return out

    def latest_seq(self) -> int:
        with self._cond:
            self._catch_up()
            return self._base + len(self._events)

    def wait(self, after: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                self._catch_up()
                if self._base + len(self._events) > after:
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
            if self._lock.read_only is not None:
                why = self._lock.read_only
                raise StoreError(f"cannot write store {self.path}: {why} (this process may only read it)")
            with self._lock:
                self._write_header_if_empty()  # a file followed to may be new and still empty
                self._catch_up(repair=True)
                out: list[Event] = []
                fresh: list[Event] = []
                batch: dict[str, Event] = {}
                seq = self._base + len(self._events)
                for e in events:
                    stored = batch.get(e.id) or self._stored(e.id)
                    if stored is None:
                        seq += 1
                        stored = replace(e, seq=seq)
                        batch[e.id] = stored
                        fresh.append(stored)
                    out.append(stored)
                lines = _batch_lines(fresh)
                if lines:
                    start = self._offset
                    self._write_durably(b"".join(lines))
                    for stored in fresh:
                        self._events.append(stored)
                        self._by_id[stored.id] = stored
                    if self._index is not None:
                        self._starts.extend(accumulate((len(x) for x in lines[:-1]), initial=start))
                    self._lines += len(lines)
            self._cond.notify_all()
        return out

    def _write_durably(self, data: bytes, count: bool = True) -> None:
        """Under the lock: append and fsync, or leave the file as it was and raise."""
        fd = self._lock.fd
        try:
            write_all(fd, data)
            os.fsync(fd)
        except OSError as exc:
            try:  # cut back what did reach the file (a full disk takes part of a write)
                os.ftruncate(fd, self._offset)
            except OSError:
                pass  # then the next writer's repair treats it as torn: never half-acknowledged
            raise write_error(self.path, exc) from None
        if not self._lock.named():
            raise StoreError(f"store {self.path} was replaced during a write; nothing was acknowledged, retry")
        if count:
            self._offset += len(data)

    # -- the rest of the protocol ---------------------------------------------------

    def link_state(self) -> LinkState:
        return "local"

    def pending(self) -> list[Event]:
        return []

    def close(self) -> None:
        with self._cond:
            self._reset()
            if self._lock.fd >= 0:
                self._lock.close()
                self._lock.fd = -1

    def __enter__(self) -> JsonStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_header(path: Path, line: bytes) -> None:
    try:
        header = _loads(line)
    except ValueError:
        header = None
    if header != HEADER:
        raise StoreCorrupt(f"{path}:1: not an incident-tui event store (first line is not its header)")


def _readable(lines: list[bytes], seq: int) -> None:
    """Lines streamed as the log holds them, made safe to stream: one that is not JSON (kept
    in its place as a placeholder) would make a client's whole page unreadable, so it goes
    out as the placeholder it reads as (~1 us a line to check)."""
    loads = _loads
    for i, line in enumerate(lines):
        try:
            loads(line)
        except ValueError:
            lines[i] = _line_of(placeholder_event(seq + i))


def _drop_trailing_zeros(lines: list[bytes], floor: int) -> int:
    """Drop the empty or all-zero lines at the end of the log (a power cut's pages that never
    reached the disk: torn, not corrupt); returns the bytes they held, newlines included."""
    keep = len(lines)
    while keep > floor and not lines[keep - 1].strip(b"\0"):
        keep -= 1
    dropped = sum(len(x) + 1 for x in lines[keep:])
    del lines[keep:]
    return dropped


def _batch_lines(events: list[Event]) -> list[bytes]:
    """The lines of one append; each but the last says `more` follow, so a reader can tell a
    command stored whole from one whose writer died half-way."""
    dicts = [e.to_dict() for e in events]
    for i in range(len(dicts) - 1):
        dicts[i] = {"seq": dicts[i]["seq"], "more": 1, **dicts[i]}
    lines = []
    for d in dicts:
        try:
            lines.append(_dumps(d) + b"\n")
        except (TypeError, ValueError) as exc:  # e.g. lone surrogates
            raise StoreError(f"refused event {d['id']}: {exc}") from None
    return lines


def _whole_event(line: bytes) -> bool:
    try:
        d = _loads(line)
    except ValueError:
        return False
    return type(d) is dict and type(d.get("seq")) is int and not d.get("more")


def _parse_lines(
    path: Path, lines: list[bytes], start: int, first: int, due: int, tail: bool = False
) -> tuple[list[Event], int]:
    """Complete lines into events, seq `due` first, and how many of `lines` are whole: with
    `tail` (the lines end where the log ends), the lines at the end that say `more` follow
    when none does are left out (a batch not written yet, or torn). This is the whole cost
    of opening a store without an index, so it checks only what the fold relies on: appends
    validated everything else. `first` is the number of lines before `lines` (for errors)."""
    events: list[Event] = []
    append, loads = events.append, _loads
    open_at = -1  # where the run of lines saying `more` follow began (-1: not in one)
    for i in range(start, len(lines)):
        try:
            d = loads(lines[i])
            event = stored_event(d)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            placed = _SEQ_FIRST.match(lines[i])
            if placed is None or int(placed.group(1)) != due:
                reason = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
                raise StoreCorrupt(f"{path}:{first + i + 1}: unreadable event: {reason}") from None
            # Not JSON (an editor's Latin-1, a NUL, a broken hand edit) but in its place in the
            # order: kept as a placeholder, which the fold skips with a warning naming its seq.
            d, event = {}, placeholder_event(due)
        if event.seq != due:
            raise StoreCorrupt(f"{path}:{first + i + 1}: seq {event.seq} where {due} was due")
        if d.get("more") == 1:
            if open_at < 0:
                open_at = i
        else:
            open_at = -1
        due += 1
        append(event)
    if tail and open_at >= 0:
        del events[open_at - start :]
        return events, open_at
    return events, len(lines)
