"""Hypotheses: `/hypothesis TEXT` opens H1, H2, ...; `/confirm H2` and `/reject H2` settle one."""

from __future__ import annotations

from datetime import datetime

from ..events import Event
from ..state import Hypothesis, IncidentState
from ._base import Arg, CommandError, Invocation, command, folds, parse_number, text_data


@command(
    "hypothesis",
    "/hypothesis TEXT",
    "open a hypothesis (H1, H2, ...)",
    args=(Arg.TEXT,),
    writes=("hypothesis",),
    rank=40,
)
def _hypothesis(inv: Invocation) -> list[Event]:
    return [inv.event("hypothesis", text_data(inv.need_text()))]


def _settle(kind: str):
    def to_events(inv: Invocation) -> list[Event]:
        n = parse_number(inv.args, "H", inv.usage)
        if inv.state.hypothesis(n) is None:
            have = ", ".join(f"H{x.number}" for x in inv.state.hypotheses if x.status == "open") or "none"
            done = ", ".join(f"H{x.number}" for x in inv.state.hypotheses if x.status != "open")
            settled = f"; settled: {done}" if done else ""
            raise CommandError(f"no hypothesis H{n} (open ones: {have}{settled}); add one with /hypothesis TEXT")
        words = inv.args.split(None, 1)
        data: dict = {"number": n}
        if len(words) > 1:
            data.update(text_data(words[1]))
        return [inv.event(kind, data)]

    return to_events


command(
    "confirm",
    "/confirm H2 [TEXT]",
    "confirm a hypothesis",
    args=(Arg.OPEN_HYPOTHESIS, Arg.TEXT),
    writes=("hypothesis.confirmed",),
    rank=50,
)(_settle("hypothesis.confirmed"))
command(
    "reject",
    "/reject H2 [TEXT]",
    "reject a hypothesis",
    args=(Arg.OPEN_HYPOTHESIS, Arg.TEXT),
    writes=("hypothesis.rejected",),
    rank=60,
)(_settle("hypothesis.rejected"))


@folds("hypothesis")
def _fold_hypothesis(state: IncidentState, e: Event, at: datetime) -> None:
    n = len(state.hypotheses) + 1
    state.hypotheses.append(Hypothesis(n, e.text, e.author, at, e.seq or 0))


def _fold_settle(status: str):
    def handler(state: IncidentState, e: Event, at: datetime) -> None:
        h = state.hypothesis(e.data["number"])
        if h is not None:
            h.status = status
            h.note = str(e.data.get("text", ""))
            h.settled_by = e.author
            h.settled_at = at

    return handler


folds("hypothesis.confirmed")(_fold_settle("confirmed"))
folds("hypothesis.rejected")(_fold_settle("rejected"))
