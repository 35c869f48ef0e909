"""The command language (SPEC 4) as a catalogue: one module per command or small family.

`parse` turns a typed line into a `Command`; `to_events` checks it against the
incident's state and turns it into events. A refused line raises `CommandError`
whose message is one line saying what would work; nothing is written. `COMMANDS`
(name -> `CommandSpec`: usage, help, argument kinds, the kinds it writes) is what
completion, the command bar's hint, `incident-tui log --help` and the README's table
(checked by a test) read. `FOLDS` (kind -> handler) is what the fold calls per event.

How to add a command (say `/mitigate TEXT`, writing kind `mitigation`):

1. Add a module here, `mitigate.py`. Declare the command with `@command("mitigate",
   "/mitigate TEXT", "what reduced the impact", args=(Arg.TEXT,), writes=("mitigation",))`
   on a function `(inv: Invocation) -> list[Event]` that checks `inv.args` against
   `inv.state` (raise `CommandError("one line: what would work")`) and returns
   `[inv.event("mitigation", text_data(inv.need_text()))]`. If the kind changes the
   state, declare `@folds("mitigation")` on `(state, event, at) -> None` in the same
   module (and give `IncidentState` in `domain/state.py` the field it fills).
   Modules are found by name: nothing imports them by hand.
2. A new kind gets one row in each table keyed by kind: its data fields in
   `domain/model.py` (`TEXT_KINDS` or `STATE_KINDS` and `KIND_FIELDS`, checked at
   every door), its timeline look in `ui/describe.py` (`KIND_VIEWS`) and its postmortem
   row in `docs/postmortem.py` (`TIMELINE_ROWS`). `tests/core/test_catalogue.py` fails
   until every kind has its rows, and until the README's command table names it.
3. A test of its own, beside `tests/core/test_command_language.py`.

`args` are the argument kinds in order (`Arg`): Tab completion offers candidates by them.
`rank` places the command in listings (default: last). `aliases` are other names it
answers to. Presentation never goes here: the domain knows no widget or Markdown.
"""

from __future__ import annotations

import importlib
import pkgutil

from ._base import (
    ALIASES,
    COMMANDS,
    FOLDS,
    SPECS,
    Arg,
    Command,
    CommandError,
    CommandSpec,
    FoldHandler,
    Invocation,
    command,
    folds,
    parse_number,
    parse_role,
    parse_user,
    text_data,
)
from ._grammar import declare_event, parse, to_events


def _load() -> None:
    """Import every command module (each registers itself), then list the commands in rank order."""
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
    COMMANDS.clear()
    COMMANDS.update((s.name, s) for s in sorted(SPECS.values(), key=lambda s: s.rank))


_load()

__all__ = [
    "ALIASES",
    "COMMANDS",
    "FOLDS",
    "Arg",
    "Command",
    "CommandError",
    "CommandSpec",
    "FoldHandler",
    "Invocation",
    "command",
    "declare_event",
    "folds",
    "parse",
    "parse_number",
    "parse_role",
    "parse_user",
    "text_data",
    "to_events",
]
