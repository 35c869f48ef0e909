"""The store protocol every backend implements: the UI, CLI and server see only this."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol, runtime_checkable

from ..domain.events import Event

LinkState = Literal["local", "connected", "reconnecting", "offline"]


class StoreError(Exception):
    """A runtime failure of a store (exit code 1); str() is one line."""


class StoreUnavailable(StoreError):
    """The store of record cannot be reached just now (a database down): retry later (503)."""


class IndexStale(StoreError):
    """A row read through the JSON store's index was not the event the index placed there:
    the index is gone (dropped by the reader that found it), and opening the store again
    answers from the log."""


class StoreCorrupt(StoreError):
    """The store's data does not parse; the message names the file and line."""


@runtime_checkable
class Store(Protocol):
    location: str

    def append(self, events: Sequence[Event]) -> list[Event]:
        """Store a batch in order, idempotent by event id.

        Returns each event as stored (with its `seq`); an id already stored answers the
        first stored copy. A remote store that could only queue an event returns it with
        `seq=None` (pending)."""
        ...

    def read(self, after: int = 0, limit: int | None = None) -> list[Event]:
        """Events with `seq > after`, in seq order."""
        ...

    def wait(self, after: int, timeout: float) -> bool:
        """Block until an event with `seq > after` exists (True) or `timeout` passes."""
        ...

    def latest_seq(self) -> int: ...

    def link_state(self) -> LinkState: ...

    def pending(self) -> list[Event]:
        """Events written here but not yet acknowledged by the store of record."""
        ...

    def close(self) -> None: ...
