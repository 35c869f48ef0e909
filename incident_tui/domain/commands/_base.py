"""The catalogue's registers and the small parsers command modules share.

A command module calls `command(...)` to declare a command and `folds(...)` to declare
what an event kind does to the incident state; both only add to the tables below.
Nothing here knows a particular command.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ..checklists import Runbooks
from ..events import Event, new_event
from ..model import ROLES
from ..state import IncidentState
from ..text import extract_tags


class CommandError(ValueError):
    """A refused command line; str() is the one-line reason."""


class Arg(StrEnum):
    """What an argument of a command is: completion offers candidates by it, help prints it."""

    TEXT = "text"
    PHASE = "phase"
    ROLE = "role"
    PERSON = "person"  # anyone seen in the incident, then in the store
    SEVERITY = "severity"
    CATEGORY = "category"
    OPEN_HYPOTHESIS = "open hypothesis"  # H2
    OPEN_FOLLOWUP = "open follow-up"  # F3
    CHECK_ITEM = "checklist item"  # N of the current phase's checklist
    UNLINKED_FOLLOWUP = "follow-up to link"  # F3, those without a link first
    LESSON = "lesson"  # well | wrong | lucky
    WHY_CHAIN = "why chain"  # `impact:`, `recovery:` or a chain already used


@dataclass(frozen=True, slots=True)
class Command:
    name: str  # "note" for a plain line, else the command without its slash
    args: str
    at: datetime | None = None  # back-dated time, if the line began with @TIME


@dataclass(frozen=True, slots=True)
class Invocation:
    """One parsed command line applied to one incident: what a `to_events` handler gets."""

    command: Command
    state: IncidentState
    author: str
    runbooks: Runbooks
    usage: str

    @property
    def args(self) -> str:
        return self.command.args

    def event(self, kind: str, data: dict) -> Event:
        """An event of this incident by this author, back-dated if the line was."""
        return new_event(self.state.id, kind, self.author, data, self.command.at)

    def need_text(self) -> str:
        if not self.command.args:
            raise CommandError(f"/{self.command.name} needs text: {self.usage}")
        return self.command.args


ToEvents = Callable[[Invocation], list[Event]]
FoldHandler = Callable[[IncidentState, Event, datetime], None]


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    usage: str
    help: str
    to_events: ToEvents
    args: tuple[Arg, ...] = ()
    aliases: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()  # the event kinds it can write (a test checks the model knows them)
    rank: int = 1000  # place in listings (Tab, help, the unknown-command hint); new commands go last


# Filled by the command modules as they are imported (see the package's __init__).
SPECS: dict[str, CommandSpec] = {}
COMMANDS: dict[str, CommandSpec] = {}  # SPECS in listing order, filled once every module is in
ALIASES: dict[str, str] = {}
FOLDS: dict[str, FoldHandler] = {}


def command(
    name: str,
    usage: str,
    help: str,
    *,
    args: tuple[Arg, ...] = (),
    aliases: tuple[str, ...] = (),
    writes: tuple[str, ...] = (),
    rank: int = 1000,
) -> Callable[[ToEvents], ToEvents]:
    """Declare `/name`; the decorated function turns an `Invocation` into events or raises CommandError."""

    def register(fn: ToEvents) -> ToEvents:
        for key in (name, *aliases):
            if key in SPECS or key in ALIASES:
                raise RuntimeError(f"/{key} is declared twice in the command catalogue")
        SPECS[name] = CommandSpec(name, usage, help, fn, args, aliases, writes, rank)
        ALIASES.update(dict.fromkeys(aliases, name))
        return fn

    return register


def folds(*kinds: str) -> Callable[[FoldHandler], FoldHandler]:
    """Declare what events of `kinds` do to the incident state (the fold calls it in seq order)."""

    def register(fn: FoldHandler) -> FoldHandler:
        for kind in kinds:
            if kind in FOLDS:
                raise RuntimeError(f"kind {kind} has two fold handlers in the command catalogue")
            FOLDS[kind] = fn
        return fn

    return register


# -- shared argument parsers --------------------------------------------------------

_USER = re.compile(r"^[A-Za-z0-9_][\w.\-]{0,63}$")


def parse_user(raw: str, usage: str) -> str:
    user = raw.strip().removeprefix("@")
    if not user:
        raise CommandError(f"needs a user name: {usage}")
    if not _USER.match(user):
        raise CommandError(f"{raw!r} is not a user name (letters, digits, . _ -): {usage}")
    return user


def parse_number(raw: str, letter: str, usage: str) -> int:
    """`H2`, `2` -> 2 (with letter "H"); refuses anything else."""
    token = raw.strip().split()[0] if raw.strip() else ""
    digits = token[1:] if token[:1].upper() == letter else token
    if not digits.isdigit() or int(digits) < 1:
        raise CommandError(f"needs a number like {letter}2: {usage}")
    return int(digits)


def parse_role(raw: str) -> str:
    role = raw.lower().removeprefix("@")
    if role == "ic":
        role = "commander"
    if role not in ROLES:
        raise CommandError(f"unknown role {raw!r}; roles: {', '.join(ROLES)}")
    return role


def text_data(text: str) -> dict:
    """`{"text": ..., "tags": [...]}`: the data of an entry, its #tags pulled out."""
    data: dict = {"text": text}
    tags = extract_tags(text)
    if tags:
        data["tags"] = tags
    return data
