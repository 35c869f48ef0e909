"""The fold from events to incident state. State is only ever built here.

`apply` advances a state by one event so that live views fold incrementally; `fold`
is the pure whole-log form. Both give the same state for the same events. What each
kind does to the state is declared beside the command that writes it, in the command
catalogue (`domain/commands/`, `FOLDS`); an `incident.declared` starts a state here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from .commands import FOLDS
from .events import Event, EventError, parse_at
from .schema import check_foldable
from .state import CheckMark, FollowUp, Hypothesis, IncidentState, RoleChange, note_person

__all__ = ["CheckMark", "FollowUp", "Hypothesis", "IncidentState", "Registry", "RoleChange", "apply", "declare", "fold"]


def declare(event: Event, number: int, at: datetime | None = None) -> IncidentState:
    at = at or parse_at(event.at)
    seq = event.seq or 0
    state = IncidentState(
        id=event.incident,
        number=number,
        title=str(event.data.get("title", "")),
        severity=str(event.data.get("severity", "SEV3")),
        summary=str(event.data.get("summary", "")),
        declared_at=at,
        declared_by=event.author,
        declared_seq=seq,
        phase_entered={"detected": at},
        phase_history=[("detected", at, seq)],
    )
    state.severity_history.append((state.severity, at, seq))
    state.timeline.append(event)
    state.last_seq = seq
    note_person(state, event.author)
    return state


def apply(state: IncidentState, event: Event, at: datetime | None = None) -> None:
    """Advance `state` by one event of its incident (events arrive in seq order).
    The event has passed `schema.check_foldable` (`Registry.apply` sees to it)."""
    state.timeline.append(event)
    if event.seq is not None:
        state.last_seq = event.seq
    note_person(state, event.author)
    handler = FOLDS.get(event.kind)
    if handler is not None:
        handler(state, event, at or parse_at(event.at))


class Registry:
    """Every incident in a store, folded incrementally in seq order.

    Incidents are numbered by the order of their `incident.declared` events, so every
    client that folds the same log derives the same `INC-N`.
    """

    def __init__(self, warn: Callable[[str], None] | None = None) -> None:
        self.incidents: dict[str, IncidentState] = {}
        self.order: list[IncidentState] = []
        self.last_seq = 0
        self.orphans = 0  # events of an incident not (yet) declared: skipped, counted
        # Events already in the log that this version cannot fold (an older or broken
        # writer's): (seq, reason), each also told to `warn` once. Every other event folds.
        self.skipped: list[tuple[int | None, str]] = []
        self.warn = warn  # who hears of each skipped event (a fold from an index starts without)
        self._ids: set[str] = set()

    def _skip(self, event: Event, reason: str) -> None:
        self.skipped.append((event.seq, reason))
        if self.warn is not None:
            where = f"seq {event.seq}" if event.seq is not None else "a pending event"
            self.warn(f"{where}: skipped an event this version cannot fold: {reason}")

    def apply(self, event: Event) -> IncidentState | None:
        seq = event.seq
        if type(seq) is int and seq > self.last_seq:
            self.last_seq = seq
        try:
            at = check_foldable(event)
        except EventError as exc:
            self._skip(event, str(exc))
            return None
        if event.id in self._ids:
            # A log holds an id once (appends are idempotent); a copy a broken writer left,
            # or a pending event the server has since stored, folds once.
            if event.seq is not None:
                self._skip(event, f"event id {event.id} is already in the log (folded once)")
            return None
        self._ids.add(event.id)
        state = self.incidents.get(event.incident)
        if event.kind == "incident.declared":
            if state is not None:
                return state  # a second declaration of the same incident id changes nothing
            state = declare(event, len(self.order) + 1, at)
            self.incidents[event.incident] = state
            self.order.append(state)
            return state
        if state is None:
            self.orphans += 1
            return None
        apply(state, event, at)
        return state

    def extend(self, events: Iterable[Event]) -> set[str]:
        """Apply events; returns the ids of the incidents they touched."""
        touched: set[str] = set()
        for e in events:
            s = self.apply(e)
            if s is not None:
                touched.add(s.id)
        return touched

    def resolve(self, ref: str) -> IncidentState | None:
        """`INC-7`, `inc-7`, `7` or the incident's uuid (or a unique uuid prefix of 8+)."""
        r = ref.strip()
        num = r[4:] if r.upper().startswith("INC-") else r
        if num.isdigit():
            n = int(num)
            return self.order[n - 1] if 0 < n <= len(self.order) else None
        if r in self.incidents:
            return self.incidents[r]
        if len(r) >= 8:
            found = [s for s in self.order if s.id.startswith(r.lower())]
            if len(found) == 1:
                return found[0]
        return None

    def active(self) -> list[IncidentState]:
        return [s for s in self.order if s.active]


def fold(events: Iterable[Event], warn: Callable[[str], None] | None = None) -> Registry:
    reg = Registry(warn)
    reg.extend(events)
    return reg
