"""An in-process store: the reference behaviour of the protocol, for tests and the server's tests."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace

from ..domain.events import Event
from .base import LinkState


class MemoryStore:
    location = ":memory:"

    def __init__(self) -> None:
        self._events: list[Event] = []
        self._by_id: dict[str, Event] = {}
        self._cond = threading.Condition()

    def append(self, events: Sequence[Event]) -> list[Event]:
        out: list[Event] = []
        with self._cond:
            for e in events:
                Event.from_dict(e.to_dict())  # validate before anything is stored
            for e in events:
                stored = self._by_id.get(e.id)
                if stored is None:
                    stored = replace(e, seq=len(self._events) + 1)
                    self._events.append(stored)
                    self._by_id[e.id] = stored
                out.append(stored)
            self._cond.notify_all()
        return out

    def read(self, after: int = 0, limit: int | None = None) -> list[Event]:
        with self._cond:
            end = None if limit is None else after + limit
            return self._events[max(after, 0) : end]

    def wait(self, after: int, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: len(self._events) > after, timeout)

    def latest_seq(self) -> int:
        return len(self._events)

    def link_state(self) -> LinkState:
        return "local"

    def pending(self) -> list[Event]:
        return []

    def close(self) -> None:
        pass
