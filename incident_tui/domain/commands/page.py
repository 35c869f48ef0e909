"""`/page USER [TEXT]`: record that someone was paged (called in), and why.

The catalogue's worked example (see the package docstring): this module declares the
command and what its kind does to the state; the kind has its fields in
`domain/model.py`, its timeline row in `ui/describe.py` and its postmortem row in
`docs/postmortem.py`; its test is `tests/core/test_command_page.py`.
"""

from __future__ import annotations

from datetime import datetime

from ..events import Event
from ..state import IncidentState, note_person
from ._base import Arg, Invocation, command, folds, parse_user, text_data


@command(
    "page",
    "/page USER [TEXT]",
    "record that USER was paged, and why",
    args=(Arg.PERSON, Arg.TEXT),
    writes=("page",),
)
def _page(inv: Invocation) -> list[Event]:
    who, _, why = inv.args.strip().partition(" ")
    user = parse_user(who, inv.usage)
    data = {"user": user, **(text_data(why.strip()) if why.strip() else {})}
    return [inv.event("page", data)]


@folds("page")
def _fold_page(state: IncidentState, e: Event, at: datetime) -> None:
    # Paged people are part of the incident from now on: completion offers them first.
    note_person(state, e.data["user"])
