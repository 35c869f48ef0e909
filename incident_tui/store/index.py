"""A derived, disposable index beside the JSON store's log (`incidents.jsonl.idx`).

The log stays the only truth. The index describes a prefix of it (every complete line
up to a byte offset) and keeps what a verb would otherwise read the whole log for:

- every incident's folded state as of that prefix, without its timeline (JSON): `list`
  and `show` read nothing else, and `log` resolves `INC-7` and checks `/confirm H2`
  against it;
- `offsets`: the byte offset of each line by seq, so any event is one `pread` away;
- `rows`: each incident's timeline as the seqs of its events, so a timeline row is read
  by its position without touching other incidents (`LogRows`, the timeline widget's row
  source);
- `ids`: the event ids' crc32 beside their seq, sorted, so an append stays idempotent
  without holding every id (a hit is confirmed against the line itself).

A reader folds only the lines after the index's offset (the tail). The index is used
only when it matches the log: the same file (device, inode), at least as long, the same
first and last 4 KiB of the prefix (crc32), the same byte order and format version, and
each section's own crc32 (checked when first used). Anything else is a missing index,
and the store rebuilds it from the log. It is written crash-safely (a temporary file,
fsynced, renamed over the old one); concurrent writers of it race harmlessly, since
either file is a correct description of a prefix. Deleting it at any moment changes no
answer, only the time the next open takes.
"""

from __future__ import annotations

import os
import struct
import sys
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import fields, is_dataclass
from datetime import datetime
from itertools import chain
from operator import attrgetter
from pathlib import Path
from typing import Any, overload

import orjson

try:  # a declared dependency; an environment made before it was declared reads rows with orjson
    import msgspec
except ImportError:  # pragma: no cover
    msgspec = None  # type: ignore[assignment]

from ..domain import state as _state
from ..domain.events import Event, at_ms, placeholder_event, stored_event
from ..domain.fold import IncidentState, Registry
from .base import IndexStale
from .files import open_regular, replace_file

MAGIC = b"incident-tui/index\n"
VERSION = 2  # 2: row_at
_HEAD = struct.Struct("<II")  # meta length, meta crc32
PROBE = 4096  # bytes of the log checked at each end of the indexed prefix
MAX_SKIPPED = 1000  # unfoldable events the index names
_READ_SPAN = 4 << 20  # a contiguous read when iterating rows, at most
_KIND = attrgetter("kind")  # in C: a million rows are filtered by it
_decode_event = msgspec.json.Decoder(Event).decode if msgspec else None  # a stored line into an Event
_SEQ = attrgetter("seq")


def index_path(log: os.PathLike[str] | str) -> str:
    return f"{os.fspath(log)}.idx"


def id_key(event_id: str, seq: int) -> int:
    return (zlib.crc32(event_id.encode()) << 32) | seq


def _probe(fd: int, offset: int) -> tuple[int, int]:
    head = os.pread(fd, min(PROBE, offset), 0)
    start = max(0, offset - PROBE)
    tail = os.pread(fd, offset - start, start)
    return zlib.crc32(head), zlib.crc32(tail)


# -- folded state without its timeline ------------------------------------------------
#
# Generic over the state's dataclass fields, so a field added to the fold is kept with no
# change here; and an index written by any other fold (fold.py or model.py changed, a field
# added) is not believed: `FOLD_ID` below is part of what an index must match.

_DATACLASSES = {name: obj for name, obj in vars(_state).items() if isinstance(obj, type) and is_dataclass(obj)}


def _fold_id() -> str:
    """The fold's identity: the state's field names and the source of the domain package
    (state, fold, model and the command catalogue's fold handlers)."""
    h = zlib.crc32(repr([f.name for f in fields(IncidentState)]).encode())
    root = os.path.dirname(_state.__file__ or "")
    for folder, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".py"):
                try:
                    with open(os.path.join(folder, name), "rb") as f:
                        h = zlib.crc32(f.read(), h)
                except OSError:  # no source beside the bytecode: the field names alone
                    pass
    return f"{h:08x}"


FOLD_ID = _fold_id()


def _enc(v: Any) -> Any:
    if v is None or isinstance(v, str | bool | int | float):
        return v
    if isinstance(v, datetime):
        return {"$dt": v.isoformat()}
    if isinstance(v, Event):
        return {"$ev": v.to_dict()}
    if isinstance(v, list):
        return [_enc(x) for x in v]
    if isinstance(v, tuple):
        return {"$tu": [_enc(x) for x in v]}
    if isinstance(v, set | frozenset):
        return {"$set": [_enc(x) for x in sorted(v, key=repr)]}  # one order for equal sets
    if isinstance(v, dict):
        return {"$map": [[_enc(k), _enc(x)] for k, x in v.items()]}
    if is_dataclass(v) and type(v).__name__ in _DATACLASSES:
        return {"$dc": type(v).__name__, "f": [_enc(getattr(v, f.name)) for f in fields(v)]}
    raise TypeError(f"the index cannot keep a {type(v).__name__}")


def _dec(v: Any) -> Any:
    if isinstance(v, list):
        return [_dec(x) for x in v]
    if not isinstance(v, dict):
        return v
    if "$dt" in v:
        return datetime.fromisoformat(v["$dt"])
    if "$ev" in v:
        d = v["$ev"]
        return stored_event(d) if isinstance(d.get("seq"), int) else Event.from_dict(d)
    if "$tu" in v:
        return tuple(_dec(x) for x in v["$tu"])
    if "$set" in v:
        return {_dec(x) for x in v["$set"]}
    if "$map" in v:
        return {_dec(k): _dec(x) for k, x in v["$map"]}
    cls = _DATACLASSES[v["$dc"]]
    return cls(*(_dec(x) for x in v["f"]))


def encode_state(s: IncidentState) -> dict[str, Any]:
    """Every field of a folded state but its timeline, as JSON (times exact to the microsecond)."""
    return {f.name: _enc(getattr(s, f.name)) for f in fields(s) if f.name != "timeline"}


def decode_state(d: dict[str, Any], timeline: Sequence[Event]) -> IncidentState:
    values = {f.name: _dec(d[f.name]) for f in fields(IncidentState) if f.name != "timeline"}
    return IncidentState(**values, timeline=timeline)  # type: ignore[arg-type]


# -- reading rows from the log by position -------------------------------------------------


class LogReader:
    """Events of the indexed prefix, read from the log file by seq."""

    def __init__(self, path: str, ino: int, offsets: memoryview) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDONLY)
        if os.fstat(self._fd).st_ino != ino:
            os.close(self._fd)
            raise OSError("the log was replaced")
        self._offsets = offsets
        self.dropped = False  # a line was found changed: the index file is gone

    def __del__(self) -> None:
        fd = getattr(self, "_fd", None)
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    def _parse(self, line: bytes, seq: int) -> Event:
        try:
            d = orjson.loads(line)
        except ValueError:
            d = None
        try:
            event = stored_event(d)
        except (KeyError, TypeError, AttributeError, ValueError):
            event = None
        if event is not None and event.seq == seq:
            return event
        # The line changed under the index (damaged or rewritten in place, past the ends it
        # checks at open): this index is never trusted again. Without it the log is read
        # whole at the next open, where an unreadable line is skipped with a warning.
        self._drop_index()
        if isinstance(d, dict) and type(d.get("seq")) is int:
            # Another event where this one was (the file rewritten in place): never show it.
            raise IndexStale(
                f"store file {self.path}: the line of seq {seq} changed under its index; the index "
                "was dropped and is rebuilt from the log at the next open"
            )
        # Damaged where it lies: what a reader of the log alone keeps there (the fold skips it;
        # a timeline iterated for a document leaves it out, one read by position shows "?").
        return placeholder_event(seq)

    def _drop_index(self) -> None:
        if not self.dropped:
            self.dropped = True
            try:
                os.unlink(index_path(self.path))
            except OSError:
                pass

    def event(self, seq: int) -> Event:
        start, end = self._offsets[seq - 1], self._offsets[seq]
        return self._parse(os.pread(self._fd, end - start, start), seq)

    def events(self, seqs: Sequence[int]) -> Iterator[Event]:
        """In the order given; lines close together are read in one go."""
        for block in self.blocks(seqs):
            yield from block

    def blocks(self, seqs: Sequence[int]) -> Iterator[list[Event]]:
        """`events` a list at a time: each list is one read of up to `_READ_SPAN` bytes, in
        which each run of consecutive seqs (an incident that had the log to itself for a
        while, the usual case) is split into lines in C rather than sliced line by line."""
        offsets, n, i = self._offsets, len(seqs), 0
        while i < n:
            first = offsets[seqs[i] - 1]
            j = i + 1
            while j < n and offsets[seqs[j]] - first <= _READ_SPAN and seqs[j] > seqs[j - 1]:
                j += 1
            block = os.pread(self._fd, offsets[seqs[j - 1]] - first, first)
            if seqs[j - 1] - seqs[i] == j - i - 1:  # one run: the block is exactly its lines
                yield self._run(block, seqs[i], j - i)
            else:
                out: list[Event] = []
                k = i
                while k < j:
                    seq, m = seqs[k], k + 1
                    while m < j and seqs[m] == seq + m - k:
                        m += 1
                    out += self._run(block[offsets[seq - 1] - first : offsets[seqs[m - 1]] - first], seq, m - k)
                    k = m
                yield out
            i = j

    def _run(self, block: bytes, seq: int, count: int) -> list[Event]:
        """The events of the `count` lines from `seq` on, which `block` holds."""
        lines = block.split(b"\n")
        if len(lines) == count + 1 and not lines[-1]:
            lines.pop()
            return self._parse_run(lines, seq)
        offsets, base = self._offsets, self._offsets[seq - 1]  # not one event a line: by offsets
        return [self._parse(block[offsets[s - 1] - base : offsets[s] - base], s) for s in range(seq, seq + count)]

    def _parse_run(self, lines: list[bytes], seq: int) -> list[Event]:
        """The lines of seqs `seq`, `seq + 1`, ...: `_parse` of each (a postmortem reads a
        million of them).

        msgspec decodes a line straight into an Event in C, checking each field's type as
        the loop below does: 1.3 us a line against 2.6 us for orjson and this loop (900k
        lines of bench_scale's 1M store, measured in one run). Only if every line of the run
        decodes and holds its due seq is that the answer; anything else (a placeholder, a
        damaged line) takes the loop below, which says why. The lines are those the index
        builder read with orjson: the one difference between the two is an integer beyond
        64 bits in a field no schema knows, read exactly here, as a float by orjson."""
        if _decode_event is None:  # pragma: no cover
            return self._parse_run_slowly(lines, seq)
        try:
            events = list(map(_decode_event, lines))
        except (msgspec.DecodeError, RecursionError):
            pass
        else:
            if list(map(_SEQ, events)) == list(range(seq, seq + len(events))):
                return events
        return self._parse_run_slowly(lines, seq)

    def _parse_run_slowly(self, lines: list[bytes], seq: int) -> list[Event]:
        """`_parse_run` a line at a time with orjson: the rare run msgspec did not take
        whole (a damaged or placeholder line in it, or msgspec missing)."""
        return [self._parse(line, s) for s, line in enumerate(lines, seq)]


class LogRows(Sequence[Event]):
    """An incident's timeline: rows of the indexed prefix are read from the log when asked
    for (by position), rows folded since are held. The fold only ever appends."""

    __slots__ = ("_ats", "_more", "_reader", "_seqs")

    def __init__(self, reader: LogReader | None, seqs: Sequence[int], ats: Sequence[int] | None = None) -> None:
        self._reader = reader
        self._seqs = seqs
        self._ats = ats  # at_ms of each indexed row, beside `seqs` (None: read from the rows)
        self._more: list[Event] = []

    def __len__(self) -> int:
        return len(self._seqs) + len(self._more)

    @overload
    def __getitem__(self, i: int) -> Event: ...
    @overload
    def __getitem__(self, i: slice) -> list[Event]: ...
    def __getitem__(self, i: int | slice) -> Event | list[Event]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        n = len(self._seqs)
        if i < 0:
            i += len(self)
        if 0 <= i < n:
            assert self._reader is not None
            return self._reader.event(self._seqs[i])
        return self._more[i - n]

    def __iter__(self) -> Iterator[Event]:
        if not self._seqs:
            return iter(self._more)
        assert self._reader is not None
        # Iterated in C, a block at a time: `list(rows)` is how a document reads a timeline.
        # A line damaged since it was indexed (a placeholder: no kind) is left out, as a fold
        # of the log alone leaves it out of every timeline.
        rows = filter(_KIND, chain.from_iterable(self._reader.blocks(self._seqs)))
        return chain(rows, self._more)

    def __reversed__(self) -> Iterator[Event]:
        yield from reversed(self._more)
        for i in range(len(self._seqs) - 1, -1, -1):
            if (e := self[i]).kind:
                yield e

    def append(self, event: Event) -> None:
        self._more.append(event)

    def copy(self) -> LogRows:
        """The same rows, unaffected by later appends to this one."""
        other = LogRows(self._reader, self._seqs, self._ats)
        other._more = list(self._more)
        return other

    def seqs(self) -> Iterator[int]:
        yield from self._seqs
        for e in self._more:
            if e.seq is not None:
                yield e.seq

    def ats(self) -> Iterator[int]:
        """`at_ms` of each row `seqs` gives, in the same order."""
        yield from self._ats if self._ats is not None else (at_ms(self[i].at) for i in range(len(self._seqs)))
        for e in self._more:
            if e.seq is not None:
                yield at_ms(e.at)

    def at_keys(self) -> Sequence[int] | None:
        """`at_ms` of the indexed rows (the first len() of them), kept by the index, so a
        timeline puts a million rows in time order without reading one: None if not kept."""
        return self._ats


class SeqRows(LogRows):
    """A timeline being indexed: only the seqs of its rows are kept."""

    __slots__ = ()

    def __init__(self, events: Iterable[Event] = ()) -> None:
        super().__init__(None, array("I"), array("q"))
        for e in events:
            self.append(e)

    def append(self, event: Event) -> None:
        self._seqs.append(event.seq or 0)  # type: ignore[attr-defined]
        self._ats.append(at_ms(event.at))  # type: ignore[union-attr]


# -- the index file -------------------------------------------------------------------------


class LogIndex:
    """A loaded, verified index; `load` returns None for anything it cannot trust."""

    def __init__(self, path: str, meta: dict[str, Any], fd: int, data_start: int, ino: int) -> None:
        self.log_path = path
        self.meta = meta
        self._fd = fd
        self._data = data_start
        self._ino = ino
        self._checked: dict[str, memoryview] = {}
        log = meta["log"]
        self.offset: int = log["offset"]
        self.lines: int = log["lines"]
        self.last_seq: int = log["last_seq"]
        self._reader: LogReader | None = None

    @classmethod
    def load(cls, log_path: str, log_fd: int) -> LogIndex | None:
        try:
            return cls._load(log_path, log_fd)
        except (OSError, ValueError, KeyError, TypeError, IndexError, struct.error):
            return None

    @classmethod
    def _load(cls, log_path: str, log_fd: int) -> LogIndex | None:
        fd = open_regular(index_path(log_path))
        try:
            found = cls._verify(log_path, log_fd, fd)
        except BaseException:
            os.close(fd)
            raise
        if found is None:
            os.close(fd)
        return found

    @classmethod
    def _verify(cls, log_path: str, log_fd: int, fd: int) -> LogIndex | None:
        start = len(MAGIC) + _HEAD.size
        head = os.pread(fd, start, 0)
        if len(head) != start or head[: len(MAGIC)] != MAGIC:
            return None
        size, crc = _HEAD.unpack_from(head, len(MAGIC))
        raw = os.pread(fd, size, start)
        if len(raw) != size or zlib.crc32(raw) != crc:
            return None
        meta = orjson.loads(raw)
        if meta["version"] != VERSION or meta["byteorder"] != sys.byteorder or meta["fold"] != FOLD_ID:
            return None
        log = meta["log"]
        st = os.fstat(log_fd)
        if (st.st_dev, st.st_ino) != (log["dev"], log["ino"]) or st.st_size < log["offset"]:
            return None
        if list(_probe(log_fd, log["offset"])) != [log["head_crc"], log["tail_crc"]]:
            return None
        return cls(log_path, meta, fd, start + size, st.st_ino)

    def __del__(self) -> None:
        try:
            os.close(self._fd)
        except (OSError, AttributeError):
            pass

    def section(self, name: str) -> memoryview:
        """A section read into memory and checked once: what was checked cannot change after."""
        view = self._checked.get(name)
        if view is None:
            s, n, crc, code = self.meta["sections"][name]
            raw = os.pread(self._fd, n, self._data + s)
            if len(raw) != n or zlib.crc32(raw) != crc:
                raise _Damaged(name)
            view = self._checked[name] = memoryview(raw).cast(code)
        return view

    @property
    def reader(self) -> LogReader:
        if self._reader is None:
            self._reader = LogReader(self.log_path, self._ino, self.section("offsets"))
        return self._reader

    def registry(self) -> Registry:
        """The fold of the indexed prefix, every timeline read from the log by position."""
        rows, row_at = self.section("rows"), self.section("row_at")
        reader = self.reader
        reg = Registry()
        for d in self.meta["incidents"]:
            start, count = d["rows"]
            state = decode_state(d, LogRows(reader, rows[start : start + count], row_at[start : start + count]))
            reg.incidents[state.id] = state
            reg.order.append(state)
        reg.last_seq = self.last_seq
        reg.orphans = self.meta["orphans"]
        reg.skipped = [(seq, reason) for seq, reason in self.meta.get("skipped", ())]
        return reg

    def find(self, event_id: str) -> Event | None:
        """The stored event with this id, if the indexed prefix holds one."""
        ids = self.section("ids")
        h = zlib.crc32(event_id.encode()) << 32
        i = bisect_left(ids, h)
        while i < len(ids) and ids[i] >> 32 == h >> 32:
            event = self.reader.event(ids[i] & 0xFFFFFFFF)
            if event.id == event_id:
                return event
            i += 1
        return None

    def events(self, after: int = 0) -> list[Event]:
        """Every event of the prefix after seq `after`, parsed in one read."""
        return list(self.reader.events(range(after + 1, self.last_seq + 1)))


class _Damaged(ValueError):
    """A section of the index failed its checksum: the caller rebuilds."""


def write_index(
    log_path: str,
    log_fd: int,
    *,
    offset: int,
    lines: int,
    registry: Registry,
    offsets: array,
    keys: list[int],
) -> None:
    """Write an index of the log's first `offset` bytes; crash-safe, best effort.

    `offsets` holds the start of each event line (seq order) and ends with `offset`;
    `keys` the sorted `id_key` of every event."""
    st = os.fstat(log_fd)
    head, tail = _probe(log_fd, offset)
    rows = array("I")
    row_at = array("q")  # beside `rows`: each row's time, so a timeline orders rows unread
    incidents = []
    for state in registry.order:
        try:
            d = encode_state(state)
        except TypeError:  # a state this version cannot describe: no index, every answer from the log
            return
        start = len(rows)
        timeline = state.timeline
        if isinstance(timeline, LogRows):
            rows.extend(timeline.seqs())
            row_at.extend(timeline.ats())
        else:
            rows.extend(e.seq or 0 for e in timeline)
            row_at.extend(at_ms(e.at) for e in timeline)
        d["rows"] = [start, len(rows) - start]
        incidents.append(d)
    blobs = {
        "offsets": offsets.tobytes(),
        "ids": array("Q", keys).tobytes(),
        "rows": rows.tobytes(),
        "row_at": row_at.tobytes(),
    }
    codes = {"offsets": offsets.typecode, "ids": "Q", "rows": "I", "row_at": "q"}
    sections, at = {}, 0
    for name, blob in blobs.items():
        sections[name] = [at, len(blob), zlib.crc32(blob), codes[name]]
        at += len(blob)
    meta = orjson.dumps(
        {
            "version": VERSION,
            "byteorder": sys.byteorder,
            "fold": FOLD_ID,
            "log": {
                "dev": st.st_dev,
                "ino": st.st_ino,
                "offset": offset,
                "lines": lines,
                "last_seq": len(offsets) - 1,
                "head_crc": head,
                "tail_crc": tail,
            },
            "sections": sections,
            "incidents": incidents,
            "orphans": registry.orphans,
            # Named again at every open, as a reader of the log alone names them (bounded: a
            # log of garbage must not make a huge index header).
            "skipped": registry.skipped[:MAX_SKIPPED],
        }
    )
    head = MAGIC + _HEAD.pack(len(meta), zlib.crc32(meta)) + meta
    try:  # durable: a power cut leaves the old index or this one whole, never a torn one
        replace_file(Path(index_path(log_path)), [head, *blobs.values()], mode=0o660)
    except OSError:
        pass  # the index only saves time: a read-only directory or a full disk costs speed, not answers
