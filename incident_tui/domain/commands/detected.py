"""`/detected TEXT`: how it was detected; back-dated with `@`, when impact began."""

from __future__ import annotations

from datetime import datetime

from ..events import Event
from ..state import IncidentState
from ._base import Arg, Invocation, command, folds, text_data


@command(
    "detected",
    "/detected TEXT",
    "how it was detected (back-date with @ for impact start)",
    args=(Arg.TEXT,),
    writes=("detected",),
    rank=180,
)
def _detected(inv: Invocation) -> list[Event]:
    return [inv.event("detected", text_data(inv.need_text()))]


@folds("detected")
def _fold_detected(state: IncidentState, e: Event, at: datetime) -> None:
    state.detected.append((at, e.text))
