"""A session: the settings and what they open (the store, the runbooks, the folded log).

Shared by the command line and the app (`run_app`), so neither reaches up into the other.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from functools import cached_property

from .config import Config
from .domain.checklists import RunbookError, Runbooks, load_runbooks
from .domain.events import Event, EventError
from .domain.fold import IncidentState, Registry
from .domain.schema import validate_event
from .store import Store, folded, open_store
from .store.files import warn


class UsageError(Exception):
    """Bad input from the user: exit code 2, nothing written."""


class Session:
    """What a CLI verb or the app needs, opened lazily: a `list` never loads the runbooks."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = open_store(self.config)
        return self._store

    @cached_property
    def runbooks(self) -> Runbooks:
        try:
            return load_runbooks(self.config.runbooks)
        except RunbookError as exc:
            raise UsageError(str(exc)) from None

    @cached_property
    def registry(self) -> Registry:
        reg = folded(self.store)  # from the JSON store's index: no other incident's events are read
        reg.extend(self.store.pending())  # what this user wrote but the server has not acknowledged yet
        for seq, reason in reg.skipped:  # an event this version cannot fold: skipped, named, never fatal
            warn(f"seq {seq}: skipped an event this version cannot fold: {reason}")
        return reg

    def incident(self, ref: str) -> IncidentState:
        state = self.registry.resolve(ref)
        if state is None:
            known = ", ".join(s.ref for s in self.registry.order[-5:]) or "none yet (incident-tui declare TITLE)"
            raise UsageError(f"unknown incident {ref!r}; known: {known}")
        return state

    def append(self, events: Sequence[Event]) -> list[Event]:
        for e in events:  # the door: a refused event is a usage error (exit 2), nothing written
            try:
                validate_event(e.to_dict())
            except EventError as exc:
                raise UsageError(f"refused: {exc}") from None
        stored = self.store.append(events)
        queued = [e for e in stored if e.seq is None]
        if queued:
            print(
                f"incident-tui: queued {len(queued)} event(s): {self.store.location} is unreachable; "
                "they will be sent, in order, by the next run that reaches it",
                file=sys.stderr,
            )
        return stored

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
