"""`/check N`: toggle item N of the current phase's checklist; `/check N N ...` ticks them all."""

from __future__ import annotations

from datetime import datetime

from ..events import Event
from ..state import CheckMark, IncidentState
from ._base import Arg, CommandError, Invocation, command, folds, parse_number


@command(
    "check",
    "/check N [N ...]",
    "toggle item N of this phase's checklist (several: tick them all)",
    args=(Arg.CHECK_ITEM,),
    writes=("checklist.set",),
    rank=130,
)
def _check(inv: Invocation) -> list[Event]:
    state = inv.state
    items = inv.runbooks.get(state.phase, ())
    if not items:
        raise CommandError(f"phase {state.phase} has no checklist")
    tokens = inv.args.replace(",", " ").split() or [""]
    numbers = [parse_number(t, "#", f"/check N [N ...] (1-{len(items)})") for t in tokens]
    bad = [n for n in numbers if n > len(items)]
    if bad:
        raise CommandError(f"phase {state.phase} has items 1-{len(items)}, not {bad[0]}; /check N [N ...]")

    def tick(n: int, done: bool) -> Event:
        item = items[n - 1]
        data = {"phase": state.phase, "item": item.id, "done": done, "index": n, "text": item.text}
        return inv.event("checklist.set", data)

    if len(numbers) == 1:  # one item toggles
        n = numbers[0]
        return [tick(n, state.is_checked(state.phase, items[n - 1].id) is None)]
    # Several tick them all, or nothing: unticking rides only on a single /check N.
    ticked = [n for n in numbers if state.is_checked(state.phase, items[n - 1].id) is not None]
    if ticked:
        raise CommandError(f"item {ticked[0]} is already ticked; /check {ticked[0]} alone unticks it")
    return [tick(n, True) for n in dict.fromkeys(numbers)]


@folds("checklist.set")
def _fold_checklist(state: IncidentState, e: Event, at: datetime) -> None:
    key = (e.data["phase"], e.data["item"])
    state.checklist[key] = CheckMark(bool(e.data["done"]), e.author, at, e.seq or 0)
