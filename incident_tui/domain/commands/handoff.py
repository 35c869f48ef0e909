"""`/handoff USER`: the commander role to USER, with a handoff snapshot on the timeline."""

from __future__ import annotations

from datetime import datetime

from ..events import Event
from ..state import IncidentState
from ._base import Arg, CommandError, Invocation, command, folds, parse_user


@command(
    "handoff",
    "/handoff USER",
    "hand command to USER with a snapshot",
    args=(Arg.PERSON,),
    writes=("role.assigned", "snapshot"),
    rank=120,
)
def _handoff(inv: Invocation) -> list[Event]:
    user = parse_user(inv.args, inv.usage)
    state = inv.state
    if state.commander == user:
        raise CommandError(f"{user} is already the commander")
    return [
        inv.event("role.assigned", {"role": "commander", "user": user}),
        inv.event("snapshot", {"at_seq": state.last_seq, "to": user, "from": state.commander or ""}),
    ]


@folds("snapshot")
def _fold_snapshot(state: IncidentState, e: Event, at: datetime) -> None:
    state.snapshots.append(e)
