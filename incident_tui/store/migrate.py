"""Copy a whole log between a store file and PostgreSQL, then prove the copy (SPEC 12).

The destination must be empty or hold a beginning of the source (a migration that was
interrupted is simply run again). Every event keeps its id, its seq and its data; the
verification pass reads both logs again from the start and compares each event's
canonical JSON byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path

import orjson

from ..domain.events import Event
from .base import Store, StoreError

CHUNK = 5000


class MigrationError(StoreError):
    """The destination does not match the source; the message says where."""


@dataclass(frozen=True)
class Migration:
    copied: int
    kept: int  # already in the destination from an earlier run
    verified: int


def open_target(target: str) -> Store:
    """A postgresql:// URL opens the database; anything else is a store file."""
    from .postgres import is_database_url

    if is_database_url(target):
        from .postgres import PostgresStore

        return PostgresStore(target)
    from .jsonfile import JsonStore

    return JsonStore(Path(target))


def _chunks(store: Store, after: int = 0) -> Iterator[list[Event]]:
    while True:
        got = store.read(after, CHUNK)
        if not got:
            return
        yield got
        after = got[-1].seq or after + len(got)


def _canonical(e: Event) -> bytes:
    return orjson.dumps(e.to_dict())


def migrate(src: Store, dst: Store, progress: Callable[[int, int], None] | None = None) -> Migration:
    total = src.latest_seq()
    kept = dst.latest_seq()
    if kept > total:
        raise MigrationError(f"the destination holds {kept} events, more than the source's {total}: not a copy of it")
    # What the destination already holds must be the source's beginning, in order.
    for theirs, ours in zip(_chunks(dst), _chunks(src), strict=False):
        for a, b in zip(theirs, ours, strict=False):
            if a.id != b.id or a.seq != b.seq:
                raise MigrationError(
                    f"the destination's seq {a.seq} is event {a.id}, the source's is {b.id}: "
                    "migrate into an empty destination"
                )
    copied = 0
    for chunk in _chunks(src, kept):
        stored = dst.append(chunk)
        for want, got in zip(chunk, stored, strict=True):
            if got.seq != want.seq:
                raise MigrationError(
                    f"event {want.id} has seq {want.seq} in the source but {got.seq} in the destination"
                )
        copied += len(chunk)
        if progress:
            progress(kept + copied, total)
    verified = verify(src, dst)
    return Migration(copied=copied, kept=kept, verified=verified)


def verify(src: Store, dst: Store) -> int:
    """Both logs, event by event: same ids, same order, same bytes. Returns the count.

    Both are gap-free from seq 1, so their chunks line up one for one."""
    n = 0
    for a_chunk, b_chunk in zip_longest(_chunks(src), _chunks(dst), fillvalue=[]):
        for a, b in zip(a_chunk, b_chunk, strict=False):
            if _canonical(a) != _canonical(b):
                raise MigrationError(f"seq {a.seq}: the destination's event differs from the source's ({a.id})")
        if len(a_chunk) != len(b_chunk):
            longer = "source" if len(a_chunk) > len(b_chunk) else "destination"
            raise MigrationError(f"the {longer} goes on after seq {n + min(len(a_chunk), len(b_chunk))}")
        n += len(a_chunk)
    return n
