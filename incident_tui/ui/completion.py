"""Tab completion for the command bar: commands, phases, roles, people, H/F numbers.

What an argument can be comes from the command catalogue (`CommandSpec.args`).

Pure: takes the typed line and the incident state, returns the new line and the
candidates (shown in the hint line when there is more than one).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from ..domain.commands import ALIASES, COMMANDS, Arg
from ..domain.fold import IncidentState
from ..domain.model import CATEGORIES, LESSONS, PHASES, ROLES, SEVERITIES
from ..domain.schema import EventError, check_name


def _people(state: IncidentState | None, others: Sequence[str] = ()) -> list[str]:
    """This incident's people first, then anyone else seen in the store."""
    mine = [p for p in (state.people if state else ()) if _typeable(p)]
    return mine + [p for p in others if p not in mine and _typeable(p)]


def _typeable(name: str) -> bool:
    # A name an older writer stored with control characters can be neither typed in a
    # command nor completed into the bar (where it would reach the terminal as is).
    try:
        check_name(name)
    except EventError:
        return False
    return True


def _candidates(
    command: str, argno: int, word: str, state: IncidentState | None, others: Sequence[str] = ()
) -> list[str]:
    if word.startswith("@"):
        return ["@" + p for p in _people(state, others)]
    spec = COMMANDS.get(ALIASES.get(command, command))
    if spec is None or argno >= len(spec.args):
        return []
    arg = spec.args[argno]
    if arg is Arg.PHASE:
        return list(PHASES)
    if arg is Arg.ROLE:
        return list(ROLES)
    if arg is Arg.PERSON:
        return _people(state, others)
    if arg is Arg.SEVERITY:
        return [s.removeprefix("SEV") for s in SEVERITIES]
    if arg is Arg.CATEGORY:
        return list(CATEGORIES)
    if arg is Arg.OPEN_HYPOTHESIS and state:
        return [f"H{h.number}" for h in state.hypotheses if h.status == "open"]
    if arg is Arg.OPEN_FOLLOWUP and state:
        return [f"F{f.number}" for f in state.followups if not f.done]
    if arg is Arg.UNLINKED_FOLLOWUP and state:
        return [f"F{f.number}" for f in state.followups if not f.link] or [f"F{f.number}" for f in state.followups]
    if arg is Arg.LESSON:
        return list(LESSONS)
    if arg is Arg.WHY_CHAIN and state:
        return [f"{chain}:" for chain in state.why_chains] or ["impact:", "recovery:"]
    return []  # free text, checklist numbers: nothing to offer


def complete(line: str, state: IncidentState | None, others: Sequence[str] = ()) -> tuple[str, list[str]]:
    """Complete the last word of `line`; returns (new line, all candidates).

    `others`: names seen in other incidents (a responder new to this one is still known)."""
    head, sep, word = line.rpartition(" ")
    prefix = head + sep
    stripped = line.lstrip()
    if not sep and stripped.startswith("/") and not stripped.startswith("//"):
        options = ["/" + c for c in COMMANDS]
    elif stripped.startswith("/") and sep:
        parts = stripped.split(" ")
        command = parts[0][1:].lower()
        argno = len([p for p in parts[1:-1] if p])
        options = _candidates(command, argno, word, state, others)
    elif word.startswith("@"):
        options = ["@" + p for p in _people(state, others)]
    else:
        return line, []
    low = word.lower()
    found = [o for o in options if o.lower().startswith(low)]
    if not found:
        return line, []
    if len(found) == 1:
        return prefix + found[0] + " ", found
    common = os.path.commonprefix([f.lower() for f in found])  # noqa: RUF071 - strings, not paths
    if len(common) > len(word):
        # Keep the candidates' own case for the completed part.
        return prefix + found[0][: len(common)], found
    return line, found
