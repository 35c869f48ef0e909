"""The remote store's copy of the server's log on disk, so a run that cannot reach the
server still shows what the last run saw (stale, and the link state says offline).

It is only a cache: written whole to a temporary name and renamed when a run ends
holding more than it loaded, never fsynced, dropped when it does not parse or when the
server's event at its last seq has another id (a different store behind the URL).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

import orjson

from ..domain.events import Event, EventError


class LogCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.loaded = 0

    def load(self) -> list[Event]:
        try:
            raw = self.path.read_bytes()
        except OSError:
            return []
        out: list[Event] = []
        for line in raw.splitlines():
            try:
                e = Event.from_dict(orjson.loads(line), require_seq=True)
            except (orjson.JSONDecodeError, EventError):
                return []
            if e.seq != len(out) + 1:
                return []
            out.append(e)
        self.loaded = len(out)
        return out

    def save(self, events: Sequence[Event]) -> None:
        if len(events) == self.loaded:
            return
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(b"".join(orjson.dumps(e.to_dict()) + b"\n" for e in events))
            os.replace(tmp, self.path)
            self.loaded = len(events)

    def drop(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()
        self.loaded = 0
