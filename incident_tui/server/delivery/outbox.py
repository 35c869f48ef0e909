"""The delivery outbox: a JSON-lines journal beside the store (`<store>.deliveries.jsonl`).

Every record is appended before the step it records is acted on (fsynced, except a try's
outcome: see `ok`):
- `{"k": "cursor", "seq": N}`: every event up to seq N has been turned into deliveries.
  The first record of a new journal holds the log's end then, so switching notifications
  on does not replay history into the channel.
- `{"k": "queued", ...}`: one delivery (its id, destination, body), written before any try.
- `{"k": "failed", "id", "n", "status", "error", "next"}`: a try that did not succeed.
- `{"k": "ok", "id", "status"}`: accepted (2xx); never sent again, even after a restart.
- `{"k": "dead", "id", "reason"}`: given up on (a 4xx, or a day of failures).

Replaying the journal gives what is still owed; a restart resumes deriving after the
cursor, and a delivery id already queued is not queued twice (ids are derived from the
event id and the destination, so re-deriving gives the same ids). A crash between an
accepted answer and its `ok` record resends once, with the same `webhook-id`: that is
the at-least-once the receivers deduplicate. A torn last line (a crash mid-write) is cut
on open. One process delivers at a time: the journal is flocked for the server's life.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ...store.files import open_regular, read_regular, replace_file, write_all

COMPACT_AT = 4 * 1024 * 1024  # a journal past this size is rewritten (owed deliveries only) on open
KEEP_DEAD = 1000  # dead letters kept through a compaction, newest first


class OutboxBusy(RuntimeError):
    """Another process holds the journal (another `serve` on the same store delivers)."""


def journal_path(store_path: str | os.PathLike[str]) -> Path:
    return Path(f"{os.fspath(store_path)}.deliveries.jsonl")


@dataclass
class Delivery:
    id: str
    dest: str  # destination name
    seq: int  # the event's seq (0 for a reminder)
    src: str  # what it was derived from: the event id or the reminder key
    trigger: str
    incident: str  # the incident's ref, for people reading `deliveries`
    created: float  # unix time it was queued: the dead-letter clock starts here
    body: bytes
    attempts: int = 0
    next_at: float = 0.0
    status: int | None = None
    error: str = ""
    state: str = "pending"  # pending | ok | dead

    def record(self) -> dict[str, Any]:
        return {
            "k": "queued",
            "id": self.id,
            "dest": self.dest,
            "seq": self.seq,
            "src": self.src,
            "trigger": self.trigger,
            "incident": self.incident,
            "created": self.created,
            "body": self.body.decode(),
        }

    def view(self) -> dict[str, Any]:
        """The delivery as `incident-tui deliveries --json` shows it (no body: it may carry text)."""
        return {
            "id": self.id,
            "destination": self.dest,
            "state": self.state,
            "trigger": self.trigger,
            "incident": self.incident,
            "seq": self.seq,
            "queued_at": self.created,
            "attempts": self.attempts,
            "last_status": self.status,
            "last_error": self.error,
            "next_attempt_at": self.next_at if self.state == "pending" else None,
        }


class Journal:
    """The replayed state of a journal file; `Outbox` adds writing, `read_journal` only reads."""

    def __init__(self) -> None:
        self.cursor: int | None = None
        self.items: dict[str, Delivery] = {}  # every delivery the file remembers, by id
        self.srcs: set[str] = set()  # reminder keys ever queued (they have no seq to resume after)
        self.delivered = 0

    def replay(self, lines: list[bytes]) -> None:
        for line in lines:
            try:
                r = orjson.loads(line)
                self._apply(r)
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
                continue  # a damaged line: skip it, keep the rest (the journal is re-derivable)

    def _apply(self, r: dict[str, Any]) -> None:
        k = r["k"]
        if k == "cursor":
            self.cursor = max(self.cursor or 0, int(r["seq"]))
        elif k == "queued":
            if r["id"] not in self.items:
                d = Delivery(
                    r["id"], r["dest"], int(r["seq"]), r["src"], r["trigger"], r["incident"],
                    float(r["created"]), r["body"].encode(),
                )  # fmt: skip
                self.items[d.id] = d
                if not d.seq:
                    self.srcs.add(d.src)
        elif k == "seen":
            self.srcs.add(r["src"])
        else:
            d = self.items.get(r["id"])
            if d is None:
                return
            if k == "failed":
                d.attempts, d.status, d.error, d.next_at = (
                    int(r["n"]),
                    r.get("status"),
                    str(r["error"]),
                    float(r["next"]),
                )
            elif k == "ok":
                d.state, d.status, d.body = "ok", r.get("status"), b""  # sent: its body is not needed again
                d.attempts = max(d.attempts, int(r.get("n", d.attempts + 1)))
                self.delivered += 1
            elif k == "dead":
                d.state, d.error = "dead", str(r["reason"])

    def owed(self) -> list[Delivery]:
        return sorted((d for d in self.items.values() if d.state == "pending"), key=lambda d: (d.created, d.seq))

    def dead(self) -> list[Delivery]:
        return sorted((d for d in self.items.values() if d.state == "dead"), key=lambda d: d.created)


def _read_lines(path: Path) -> tuple[list[bytes], int]:
    """Complete lines and the byte length they span (a torn tail is not a line)."""
    try:
        data = read_regular(path)
    except FileNotFoundError:
        return [], 0
    end = data.rfind(b"\n") + 1
    return [ln for ln in data[:end].split(b"\n") if ln], end


def read_journal(path: Path) -> Journal | None:
    """Read-only view for `incident-tui deliveries` (no lock: the journal only grows)."""
    if not path.exists():
        return None
    j = Journal()
    j.replay(_read_lines(path)[0])
    return j


class Outbox(Journal):
    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # Never through a symlink or into a FIFO planted beside a shared store (files.open_regular).
        self._lockfd = open_regular(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lockfd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lockfd)
            raise OutboxBusy(f"{path} is held by another incident-tui serve; it delivers, this one does not") from None
        self._mutex = threading.Lock()
        lines, end = _read_lines(path)
        self.replay(lines)
        # Bodies can carry incident text: the journal is as private as the store.
        self._fd = open_regular(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        if os.fstat(self._fd).st_size != end:
            os.ftruncate(self._fd, end)  # a torn tail from a crash mid-write
        if end > COMPACT_AT:
            self._compact()

    def _write(self, records: list[dict[str, Any]], durable: bool = True) -> None:
        data = b"".join(orjson.dumps(r) + b"\n" for r in records)
        with self._mutex:
            end = os.fstat(self._fd).st_size
            try:
                write_all(self._fd, data)
                if durable:
                    os.fsync(self._fd)
            except OSError:
                with contextlib.suppress(OSError):
                    os.ftruncate(self._fd, end)  # no torn record for the next one to be glued to
                raise
            for r in records:
                self._apply(r)

    def start(self, seq: int) -> None:
        """A new journal starts at the log's end: no history is replayed into the channel."""
        if self.cursor is None:
            self._write([{"k": "cursor", "seq": seq}])

    def queue(self, deliveries: list[Delivery], cursor: int | None) -> list[Delivery]:
        """Queue the new ones (ids not yet known) and advance the cursor, in one fsync."""
        fresh = [d for d in deliveries if d.id not in self.items]
        records = [d.record() for d in fresh]
        if cursor is not None and cursor > (self.cursor or 0):
            records.append({"k": "cursor", "seq": cursor})
        if records:
            self._write(records)
        return [self.items[d.id] for d in fresh]

    def seen(self, src: str) -> None:
        """A reminder that needs no delivery (no destination asked) is still not owed again."""
        self._write([{"k": "seen", "src": src}])

    # A try's outcome is written without an fsync: a killed or restarted server still finds
    # it (the kernel keeps written bytes whatever becomes of the process); only a power cut
    # could lose it, and then the delivery is sent once more with its webhook-id. Queued
    # records and the cursor stay fsynced: with 5 destinations, half the fsyncs.
    def failed(self, d: Delivery, status: int | None, error: str, next_at: float) -> None:
        rec = {"k": "failed", "id": d.id, "n": d.attempts + 1, "status": status, "error": error, "next": next_at}
        self._write([rec], durable=False)

    def ok(self, d: Delivery, status: int) -> None:
        self._write([{"k": "ok", "id": d.id, "status": status, "n": d.attempts + 1}], durable=False)

    def dead_letter(self, d: Delivery, reason: str) -> None:
        self._write([{"k": "dead", "id": d.id, "reason": reason}])

    def _compact(self) -> None:
        """Rewrite to what is still needed: the cursor, owed and recent dead deliveries, reminder keys."""
        keep: list[dict[str, Any]] = [{"k": "cursor", "seq": self.cursor or 0}]
        keep += [{"k": "seen", "src": s} for s in sorted(self.srcs)]
        for d in self.owed() + self.dead()[-KEEP_DEAD:]:
            keep.append(d.record())
            if d.attempts:
                keep.append(
                    {
                        "k": "failed",
                        "id": d.id,
                        "n": d.attempts,
                        "status": d.status,
                        "error": d.error,
                        "next": d.next_at,
                    }
                )
            if d.state == "dead":
                keep.append({"k": "dead", "id": d.id, "reason": d.error})
        replace_file(self.path, b"".join(orjson.dumps(r) + b"\n" for r in keep))
        os.close(self._fd)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        self.items = {}
        self.srcs = set()
        self.cursor = None
        self.replay(_read_lines(self.path)[0])

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._fd)
        with contextlib.suppress(OSError):
            os.close(self._lockfd)  # releases the flock


def now() -> float:
    return time.time()
