"""`/phase NAME` (unambiguous prefixes work) and `/resolve`."""

from __future__ import annotations

from datetime import datetime

from ..events import Event
from ..model import ACTIVE_PHASES, PHASES, match_phase
from ..state import IncidentState
from ._base import Arg, CommandError, Invocation, command, folds


def _to_phase(inv: Invocation, phase: str) -> list[Event]:
    if phase == inv.state.phase:
        raise CommandError(f"{inv.state.ref} is already in phase {phase}")
    return [inv.event("phase.set", {"phase": phase})]


@command(
    "phase",
    "/phase NAME",
    "change phase: " + ", ".join(PHASES),
    args=(Arg.PHASE,),
    writes=("phase.set",),
    rank=90,
)
def _phase(inv: Invocation) -> list[Event]:
    phase, found = match_phase(inv.args)
    if phase is None:
        if found:
            raise CommandError(f"/phase {inv.args} is ambiguous: {' or '.join(found)}")
        raise CommandError(f"unknown phase {inv.args!r}; phases: {', '.join(PHASES)}")
    return _to_phase(inv, phase)


@command("resolve", "/resolve", "move to phase resolved", writes=("phase.set",), rank=230)
def _resolve(inv: Invocation) -> list[Event]:
    if inv.args:
        raise CommandError("/resolve takes no text; log a note or /update first")
    return _to_phase(inv, "resolved")


@folds("phase.set")
def _fold_phase(state: IncidentState, e: Event, at: datetime) -> None:
    phase = e.data["phase"]
    state.phase = phase
    state.phase_entered[phase] = at
    state.phase_history.append((phase, at, e.seq or 0))
    if phase == "monitoring" and state.mitigated_at is None:
        state.mitigated_at = at
    if phase == "resolved":
        state.resolved_at = at
    elif phase in ACTIVE_PHASES:
        state.resolved_at = None  # reopened: the end time is no longer the end
