"""Per-phase checklists: the package's runbook files, or a team's own folder of them.

An item may name a condition on the incident's state (`when = "role:commander"`): it
then counts as done, marked automatic, as soon as the state satisfies it, so a
commander does not type `/check` for what the timeline already shows. Manual ticks
still work on every item; an item is done when ticked or when its condition holds.
"""

from __future__ import annotations

import errno
import os
import stat
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

from .model import PHASES, ROLES
from .state import CheckMark, IncidentState


class RunbookError(ValueError):
    """A runbook file that cannot be used; the message names the file."""


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    id: str
    text: str
    when: str | None = None  # a condition (CONDITIONS) that makes the item done by itself


def _since_phase(state: IncidentState, phase: str, at: datetime | None) -> bool:
    entered = state.phase_entered.get(phase)
    return at is not None and (entered is None or at >= entered)


# Each condition: (what it means, for help and errors; the test on the state and phase).
CONDITIONS: dict[str, tuple[str, Callable[[IncidentState, str], bool]]] = {
    # The declaration always carries a severity (SEV3 unless given): SEV3 with no `/sev`
    # since is the default nobody chose, anything else was a decision.
    "severity": ("a severity was chosen", lambda s, p: len(s.severity_history) > 1 or s.severity != "SEV3"),
    "category": ("the incident is categorized", lambda s, p: bool(s.category)),
    "impact": ("the impact is described", lambda s, p: bool(s.impact)),
    "summary": ("the summary is written", lambda s, p: bool(s.summary)),
    "update": ("a stakeholder update was sent", lambda s, p: s.last_update_at is not None),
    "update:phase": (
        "a stakeholder update was sent in this phase",
        lambda s, p: _since_phase(s, p, s.last_update_at),
    ),
    "hypothesis": ("a hypothesis was stated", lambda s, p: bool(s.hypotheses)),
    "rootcause": ("the root cause is recorded", lambda s, p: bool(s.rootcause)),
    "whys": ("a why is recorded", lambda s, p: bool(s.whys)),
    "followup": ("a follow-up was filed", lambda s, p: bool(s.followups)),
    "followups-owned": (
        "every follow-up has an owner and a due date",
        lambda s, p: bool(s.followups) and all(f.owner and f.due for f in s.followups),
    ),
    **{f"role:{role}": (f"someone holds {role}", lambda s, p, role=role: bool(s.holders(role))) for role in ROLES},
}


def condition_met(state: IncidentState, phase: str, when: str | None) -> bool:
    if not when:
        return False
    found = CONDITIONS.get(when)
    return found is not None and found[1](state, phase)


@dataclass(frozen=True, slots=True)
class ItemStatus:
    done: bool
    auto: bool  # done because its condition holds (whether or not someone also ticked it)
    mark: CheckMark | None  # the last manual tick, if it is a tick


def item_status(state: IncidentState, phase: str, item: ChecklistItem) -> ItemStatus:
    """Done when its condition holds or someone ticked it (the one rule every view uses)."""
    mark = state.is_checked(phase, item.id)
    auto = condition_met(state, phase, item.when)
    return ItemStatus(auto or mark is not None, auto, mark)


Runbooks = dict[str, tuple[ChecklistItem, ...]]


def _parse(name: str, raw: bytes) -> tuple[str, tuple[ChecklistItem, ...]]:
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RunbookError(f"{name}: not valid TOML: {exc}") from None
    phase = doc.get("phase", Path(name).stem)
    if phase not in PHASES:
        raise RunbookError(f"{name}: unknown phase {phase!r}; phases are {', '.join(PHASES)}")
    items = []
    seen: set[str] = set()
    for i, raw_item in enumerate(doc.get("items", []), 1):
        if isinstance(raw_item, str):
            raw_item = {"id": f"item-{i}", "text": raw_item}
        if not isinstance(raw_item, dict) or not isinstance(raw_item.get("text"), str):
            raise RunbookError(f"{name}: item {i} needs a text")
        item_id = str(raw_item.get("id") or f"item-{i}")
        if item_id in seen:
            raise RunbookError(f"{name}: item id {item_id!r} appears twice")
        seen.add(item_id)
        when = raw_item.get("when")
        if when is not None and (not isinstance(when, str) or when not in CONDITIONS):
            known = ", ".join(CONDITIONS)
            raise RunbookError(f"{name}: item {item_id!r} has an unknown condition {when!r}; conditions are {known}")
        items.append(ChecklistItem(item_id, raw_item["text"], when or None))
    return phase, tuple(items)


def read_settings_file(path: Path) -> bytes:
    """A file a person named (a runbook, the config): followed through symlinks (dotfiles
    often are links), but never blocking on a FIFO or a device put there, which would hang
    every verb that reads it. OSError (EINVAL for "not a regular file") otherwise."""
    with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        return f.read()


def default_runbooks() -> Runbooks:
    books: Runbooks = {p: () for p in PHASES}
    pkg = resources.files("incident_tui") / "runbooks"
    for entry in pkg.iterdir():
        if entry.name.endswith(".toml"):
            phase, items = _parse(entry.name, entry.read_bytes())
            books[phase] = items
    return books


def load_runbooks(folder: str | Path | None = None) -> Runbooks:
    """The defaults, with each phase a team's folder has a `<phase>.toml` for replaced."""
    books = default_runbooks()
    if folder is None:
        return books
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise RunbookError(f"{path}: runbook folder does not exist")
    for f in sorted(path.glob("*.toml")):
        try:
            raw = read_settings_file(f)
        except OSError as exc:
            raise RunbookError(f"{f}: cannot read: {exc.strerror or exc}") from None
        phase, items = _parse(str(f), raw)
        books[phase] = items
    return books
