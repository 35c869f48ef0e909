"""Single-valued incident fields: `/title`, `/summary`, `/impact`, `/category` (last writer wins)."""

from __future__ import annotations

from datetime import datetime

from ..events import Event
from ..model import CATEGORIES
from ..state import IncidentState
from ._base import Arg, Invocation, command, folds


def _set(kind: str, lower: bool = False):
    def to_events(inv: Invocation) -> list[Event]:
        value = inv.need_text()
        return [inv.event(kind, {"value": value.lower() if lower else value})]

    return to_events


def _fold_field(name: str):
    def handler(state: IncidentState, e: Event, at: datetime) -> None:
        setattr(state, name, str(e.data["value"]))

    return handler


command("title", "/title TEXT", "set the title", args=(Arg.TEXT,), writes=("title.set",), rank=140)(_set("title.set"))
command("summary", "/summary TEXT", "set the summary", args=(Arg.TEXT,), writes=("summary.set",), rank=150)(
    _set("summary.set")
)
command("impact", "/impact TEXT", "describe the impact", args=(Arg.TEXT,), writes=("impact.set",), rank=160)(
    _set("impact.set")
)
command(
    "category",
    "/category NAME",
    "categorize: " + ", ".join(CATEGORIES) + " or your own",
    args=(Arg.CATEGORY,),
    writes=("category.set",),
    rank=170,
)(_set("category.set", lower=True))

for _name in ("title", "summary", "impact", "category"):
    folds(f"{_name}.set")(_fold_field(_name))
