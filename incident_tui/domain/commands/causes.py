"""The root cause: `/rootcause TEXT` and the five whys, `/why [CHAIN:] TEXT` (named chains)."""

from __future__ import annotations

import re
from datetime import datetime

from ..events import Event
from ..model import DEFAULT_WHY_CHAIN
from ..state import IncidentState
from ._base import Arg, Invocation, command, folds, text_data

# `/why recovery: TEXT`: a chain name is one word before a colon.
_CHAIN = re.compile(r"^([A-Za-z][\w\-]{0,39}):\s+(\S.*)$", re.DOTALL)


@command("rootcause", "/rootcause TEXT", "record the root cause", args=(Arg.TEXT,), writes=("rootcause",), rank=210)
def _rootcause(inv: Invocation) -> list[Event]:
    return [inv.event("rootcause", text_data(inv.need_text()))]


@command(
    "why",
    "/why [CHAIN:] TEXT",
    "add one of the five whys (chains: impact, recovery: or your own)",
    args=(Arg.WHY_CHAIN, Arg.TEXT),
    writes=("why",),
    rank=220,
)
def _why(inv: Invocation) -> list[Event]:
    text = inv.need_text()
    m = _CHAIN.match(text)
    if m and "://" not in text.split(None, 1)[0]:
        data = text_data(m.group(2))
        data["chain"] = m.group(1).lower()
        return [inv.event("why", data)]
    return [inv.event("why", text_data(text))]


@folds("rootcause")
def _fold_rootcause(state: IncidentState, e: Event, at: datetime) -> None:
    state.rootcause = e.text  # the latest one stands


@folds("why")
def _fold_why(state: IncidentState, e: Event, at: datetime) -> None:
    state.whys.append(e.text)
    chain = e.data.get("chain")
    chain = chain if isinstance(chain, str) and chain else DEFAULT_WHY_CHAIN
    state.why_chains.setdefault(chain, []).append(e.text)
