"""What the postmortem's second pass records (SPEC 9): `/mitigate TEXT` (kind `mitigation`,
the postmortem's "what restored service"), `/dataloss TEXT`, `/background TEXT` and
`/lesson well|wrong|lucky TEXT`."""

from __future__ import annotations

from datetime import datetime

from ..events import Event
from ..model import LESSONS
from ..state import IncidentState
from ._base import Arg, CommandError, Invocation, command, folds, text_data


def _entry(kind: str):
    def to_events(inv: Invocation) -> list[Event]:
        return [inv.event(kind, text_data(inv.need_text()))]

    return to_events


command(
    "mitigate",
    "/mitigate TEXT",
    "an action that reduced or ended the impact",
    args=(Arg.TEXT,),
    writes=("mitigation",),
    rank=240,
)(_entry("mitigation"))
command(
    "dataloss",
    "/dataloss TEXT",
    "what data was lost or put at risk (none is an answer)",
    args=(Arg.TEXT,),
    writes=("dataloss",),
    rank=250,
)(_entry("dataloss"))
command(
    "background",
    "/background TEXT",
    "context a postmortem reader needs",
    args=(Arg.TEXT,),
    writes=("background",),
    rank=260,
)(_entry("background"))


@command(
    "lesson",
    "/lesson well|wrong|lucky TEXT",
    "a lesson: what went well, wrong, or lucky",
    args=(Arg.LESSON, Arg.TEXT),
    writes=("lesson",),
    rank=270,
)
def _lesson(inv: Invocation) -> list[Event]:
    sort, _, text = inv.args.partition(" ")
    sort = sort.lower()
    if sort not in LESSONS or not text.strip():
        raise CommandError(f"/lesson needs well, wrong or lucky, then text: {inv.usage}")
    data = text_data(text.strip())
    data["lesson"] = sort
    return [inv.event("lesson", data)]


def _collect(name: str):
    def handler(state: IncidentState, e: Event, at: datetime) -> None:
        getattr(state, name).append(e)

    return handler


folds("mitigation")(_collect("mitigations"))
folds("dataloss")(_collect("dataloss"))
folds("background")(_collect("background"))


@folds("lesson")
def _fold_lesson(state: IncidentState, e: Event, at: datetime) -> None:
    bucket = state.lessons.get(e.data["lesson"])
    if bucket is not None:
        bucket.append(e)
