"""The on-disk outbox of a remote store: writes that wait for the server's acknowledgement.

One JSON-lines file per (user, server). An event is appended and fsynced here before it
is sent, and removed only once the server has answered its seq, so a write survives the
server, the network and the client itself going away; any later run by that user
against that server sends it again with the same id (the server stores an id once).
Several processes (an app and CLI runs) may share a file: every change takes a flock,
a removal appends an `{"acked": [ids]}` tombstone (or, once the file is large, rewrites
it to a temporary name renamed over the old one), and an empty outbox is deleted.

Nothing in it is ever dropped in silence: a line that cannot be read (a torn add, a
damaged disk block) is moved to `<outbox>.damaged` byte for byte, and an event today's
schema refuses (written by an older version) to `<outbox>.refused.jsonl` with its reason,
each with one warning; an add never appends after a line that lacks its newline.

All or none: the events of one add (one command: `/handoff` is a role change and its
snapshot) are one line `{"batch": [...]}`, so a torn add loses the whole command, never
half of it, and they are sent, refused and set aside together.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

import orjson

from ..domain.events import Event, EventError
from ..domain.schema import validate_event
from .files import open_regular, read_regular, replace_file, warn, write_all

COMPACT_AT = 256 * 1024  # past this size a removal rewrites the file instead of appending a tombstone


def outbox_path(data_dir: Path, user: str, url: str, folder: str = "outbox") -> Path:
    """`<data_dir>/<folder>/<user>@<host>-<hash>.jsonl`: readable, and unique per user and server."""
    host = re.sub(r"^[a-z]+://", "", url.lower()).split("/")[0]
    clean = lambda s: re.sub(r"[^A-Za-z0-9._-]+", "_", s)[:40] or "_"  # noqa: E731
    digest = hashlib.sha256(f"{user}\0{url}".encode()).hexdigest()[:10]
    return data_dir / folder / f"{clean(user)}@{clean(host)}-{digest}.jsonl"


def _side_file(path: Path) -> BinaryIO:
    """A side file (damaged or refused lines) opened for appending at its own name only."""
    return os.fdopen(open_regular(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "ab")


class Outbox:
    def __init__(self, path: Path, warn: Callable[[str], None] = warn) -> None:
        self.path = path
        self._warn = warn
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lockfd = open_regular(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        self._mutex = threading.RLock()
        self._gen = -1  # the generation `_cache` was read or written at
        self._dirty = True  # a change of ours whose result is not in `_cache`: re-read
        self._cache: list[Event] = []
        self._groups: dict[str, str] = {}  # event id -> the first id of its add (its command)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        # flock excludes other processes only: threads sharing this fd would all "hold" it,
        # and a remove() rewriting the file could drop an add() made meanwhile.
        with self._mutex:
            fcntl.flock(self._lockfd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._lockfd, fcntl.LOCK_UN)

    def add(self, events: Sequence[Event]) -> None:
        data = self._lines(events)
        with self._locked():
            known = self._known()
            fd = open_regular(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                self._unglue(fd)
                start = os.fstat(fd).st_size
                try:
                    write_all(fd, data)  # a full disk takes part of a write: never call that queued
                    os.fsync(fd)
                except OSError:
                    with contextlib.suppress(OSError):
                        os.ftruncate(fd, start)  # nothing of this command is left behind
                    raise
            finally:
                os.close(fd)
                gen = self._bump()
            if known is None:
                self._dirty = True
            else:
                have = {e.id for e in known}
                self._groups.update({e.id: events[0].id for e in events})
                self._settle([*known, *(e for e in events if e.id not in have)], gen)

    @staticmethod
    def _lines(events: Sequence[Event]) -> bytes:
        if len(events) == 1:
            return orjson.dumps(events[0].to_dict()) + b"\n"
        return orjson.dumps({"batch": [e.to_dict() for e in events]}) + b"\n"

    def group_of(self, event: Event) -> str:
        """The first id of the add that queued `event`: what is sent and refused together."""
        return self._groups.get(event.id, event.id)

    def _unglue(self, fd: int) -> None:
        """Under the lock: a last line without its newline (an add cut short) is moved
        aside before anything is appended, never glued to the next event."""
        size = os.fstat(fd).st_size
        if not size or os.pread(fd, 1, size - 1) == b"\n":
            return
        raw = os.pread(fd, size, 0)
        start = raw.rfind(b"\n") + 1
        self._move_aside([raw[start:]], "an unfinished last line")
        os.ftruncate(fd, start)
        self._dirty = True

    def _move_aside(self, lines: list[bytes], what: str) -> None:
        side = self.path.with_name(self.path.name + ".damaged")
        with _side_file(side) as f:
            os.fchmod(f.fileno(), 0o600)
            f.write(b"".join(line + b"\n" for line in lines))
            f.flush()
            os.fsync(f.fileno())
        self._warn(f"outbox {self.path}: moved {len(lines)} unreadable line(s) ({what}) aside to {side.name}")

    def _generation(self) -> int:
        """A counter in the lock file that every change, by any process, bumps under the lock.

        While it has not moved, the file holds what `_cache` says. (A stat signature can
        repeat: another process unlinks the file and writes a new one that reuses the
        inode, with the same size, within one timestamp tick.)"""
        return int.from_bytes(os.pread(self._lockfd, 8, 0).ljust(8, b"\0"), "little")

    def _bump(self) -> int:
        gen = self._generation() + 1
        os.pwrite(self._lockfd, gen.to_bytes(8, "little"), 0)
        return gen

    def _known(self) -> list[Event] | None:
        """Under the lock: what waits, if no other process changed the file since we last
        looked. Every append re-reading the whole file (to learn what it had just written)
        was a tenth of a busy client's CPU in bench_load."""
        if self._dirty or self._generation() != self._gen:
            return None
        return self._cache

    def _settle(self, waiting: list[Event], gen: int) -> None:
        """Under the lock, after this process's own change: remember the result."""
        self._cache, self._gen, self._dirty = waiting, gen, False

    def events(self) -> list[Event]:
        """What waits, oldest first. Re-read only when the file changed (the counter is cheap)."""
        if self._dirty or self._generation() != self._gen:
            with self._locked():
                self._cache = self._read()
                self._gen, self._dirty = self._generation(), False
        return list(self._cache)

    def _read(self) -> list[Event]:
        try:
            raw = read_regular(self.path)
        except FileNotFoundError:
            return []
        out: list[Event] = []
        seen: set[str] = set()
        damaged: list[bytes] = []
        refused: list[tuple[dict, str]] = []
        groups: dict[str, str] = {}
        for line in raw.split(b"\n"):
            if not line.strip():
                continue
            try:
                d = orjson.loads(line)
                if isinstance(d, dict) and isinstance(d.get("acked"), list):
                    gone = {x for x in d["acked"] if isinstance(x, str)}
                    out = [e for e in out if e.id not in gone]
                    seen -= gone
                    continue
                docs = d["batch"] if isinstance(d, dict) and isinstance(d.get("batch"), list) else [d]
                if not docs:
                    continue
                # The drain's door: what the server would refuse, a whole command at a time.
                events = [validate_event(x, allow_seq=False) for x in docs]
            except orjson.JSONDecodeError:
                damaged.append(line)  # a torn add, a damaged block: kept byte for byte, not dropped
                continue
            except EventError as exc:
                if all(isinstance(x, dict) for x in docs):
                    refused.extend((x, str(exc)) for x in docs)
                else:
                    damaged.append(line)
                continue
            for e in events:
                if e.id not in seen:
                    seen.add(e.id)
                    out.append(e)
                    groups[e.id] = events[0].id
        self._groups = groups
        if damaged or refused:
            self._set_apart(out, damaged, refused)
        return out

    def _set_apart(self, keep: list[Event], damaged: list[bytes], refused: list[tuple[dict, str]]) -> None:
        """Under the lock: what cannot be sent leaves the outbox, kept beside it, said once."""
        if damaged:
            self._move_aside(damaged, "not JSON")
        if refused:
            side = self.path.with_suffix(".refused.jsonl")
            with _side_file(side) as f:
                os.fchmod(f.fileno(), 0o600)
                for d, reason in refused:
                    f.write(orjson.dumps({"reason": reason, "event": d}) + b"\n")
                f.flush()
                os.fsync(f.fileno())
            self._warn(
                f"outbox {self.path}: set aside {len(refused)} event(s) this version refuses "
                f"({refused[0][1]}) in {side.name}"
            )
        self._rewrite(keep)
        self._bump()

    def _rewrite(self, keep: Sequence[Event]) -> None:
        if not keep:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
            return
        commands: dict[str, list[Event]] = {}  # each command stays one line
        for e in keep:
            commands.setdefault(self.group_of(e), []).append(e)
        replace_file(self.path, [self._lines(group) for group in commands.values()])

    def remove(self, ids: set[str]) -> None:
        if not ids:
            return
        with self._locked():
            known = self._known()
            self._dirty = True
            keep = [e for e in (self._read() if known is None else known) if e.id not in ids]
            try:
                if not keep:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(self.path)
                elif os.path.getsize(self.path) < COMPACT_AT:
                    # A tombstone, not fsynced: were it lost, those ids are sent again and the
                    # server answers their first seq. Only adds must be durable.
                    fd = open_regular(self.path, os.O_WRONLY | os.O_APPEND)
                    try:
                        os.write(fd, orjson.dumps({"acked": sorted(ids)}) + b"\n")
                    finally:
                        os.close(fd)
                else:
                    self._rewrite(keep)
            finally:
                gen = self._bump()
            self._settle(keep, gen)

    def set_aside(self, events: Sequence[Event], reason: str) -> Path:
        """Keep events the server refused for good beside the outbox, so nothing typed vanishes."""
        side = self.path.with_suffix(".refused.jsonl")
        with self._locked(), _side_file(side) as f:
            for e in events:
                f.write(orjson.dumps({"reason": reason, "event": e.to_dict()}) + b"\n")
            f.flush()
            os.fsync(f.fileno())
        self.remove({e.id for e in events})
        return side

    def close(self) -> None:
        if self._lockfd >= 0:
            os.close(self._lockfd)
            self._lockfd = -1
