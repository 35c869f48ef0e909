"""Timeline entries of their own kind: `/decision`, `/action`, `/obs`, `/update`."""

from __future__ import annotations

from datetime import datetime

from ..events import Event
from ..state import IncidentState
from ._base import Arg, Invocation, command, folds, text_data


def _entry(kind: str):
    def to_events(inv: Invocation) -> list[Event]:
        return [inv.event(kind, text_data(inv.need_text()))]

    return to_events


command("decision", "/decision TEXT", "record a decision", args=(Arg.TEXT,), writes=("decision",), rank=10)(
    _entry("decision")
)
command("action", "/action TEXT", "record an action taken", args=(Arg.TEXT,), writes=("action",), rank=20)(
    _entry("action")
)
command("obs", "/obs TEXT", "record an observation", args=(Arg.TEXT,), writes=("obs",), rank=30)(_entry("obs"))
command("update", "/update TEXT", "stakeholder status update", args=(Arg.TEXT,), writes=("update",), rank=70)(
    _entry("update")
)


@folds("update")
def _fold_update(state: IncidentState, e: Event, at: datetime) -> None:
    # Back-dated updates count from when they were given, and never move the countdown back.
    if state.last_update_at is None or at > state.last_update_at:
        state.last_update_at = at
