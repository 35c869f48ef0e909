"""`/check N`: toggle item N of the current phase's checklist."""

from __future__ import annotations

from datetime import datetime

from ..events import Event
from ..state import CheckMark, IncidentState
from ._base import Arg, CommandError, Invocation, command, folds, parse_number


@command(
    "check",
    "/check N",
    "toggle item N of this phase's checklist",
    args=(Arg.CHECK_ITEM,),
    writes=("checklist.set",),
    rank=130,
)
def _check(inv: Invocation) -> list[Event]:
    state = inv.state
    items = inv.runbooks.get(state.phase, ())
    if not items:
        raise CommandError(f"phase {state.phase} has no checklist")
    n = parse_number(inv.args, "#", f"/check N (1-{len(items)})")
    if n > len(items):
        raise CommandError(f"phase {state.phase} has items 1-{len(items)}; /check N")
    item = items[n - 1]
    done = state.is_checked(state.phase, item.id) is None
    data = {"phase": state.phase, "item": item.id, "done": done, "index": n, "text": item.text}
    return [inv.event("checklist.set", data)]


@folds("checklist.set")
def _fold_checklist(state: IncidentState, e: Event, at: datetime) -> None:
    key = (e.data["phase"], e.data["item"])
    state.checklist[key] = CheckMark(bool(e.data["done"]), e.author, at, e.seq or 0)
