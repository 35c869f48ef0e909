"""TinyDB over the event log: query a store file with TinyDB's API.

    from tinydb import TinyDB, where
    db = TinyDB("incidents.jsonl", storage=EventLogStorage)
    db.table("events").search(where("kind") == "decision")

Documents are events keyed by `seq`. The log is append-only: `write` appends the
documents TinyDB added (their `seq` is assigned by the store, not by TinyDB's
per-process id counter) and refuses any change to a stored event.
"""

from __future__ import annotations

from typing import Any

from tinydb.storages import Storage

from ..domain.events import Event
from .base import StoreError
from .jsonfile import JsonStore

TABLE = "events"


class EventLogStorage(Storage):
    def __init__(self, path: str, **_: Any) -> None:
        self._store = JsonStore(path)

    def read(self) -> dict[str, dict[str, Any]]:
        return {TABLE: {str(e.seq): e.to_dict() for e in self._store.read()}}

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        extra = set(data) - {TABLE}
        if extra:
            raise StoreError(f"the event log has one table, {TABLE!r}; refused {sorted(extra)}")
        known = {str(e.seq): e.to_dict() for e in self._store.read()}
        table = data.get(TABLE, {})
        if any(k in table and table[k] != doc for k, doc in known.items()) or not set(known) <= set(table):
            raise StoreError("the event log is append-only: stored events cannot change")
        fresh = [v for k, v in table.items() if k not in known]
        self._store.append([Event.from_dict({**doc, "seq": None}) for doc in fresh])

    def close(self) -> None:
        self._store.close()
