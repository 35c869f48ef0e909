"""The line grammar (SPEC 4): `@TIME` back-dating, `//` notes, `/name args`, and dispatch.

`parse` turns a typed line into a `Command`; `to_events` hands it to the catalogue entry
of its name, which checks it against the incident's state and returns the events.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

from ..checklists import Runbooks
from ..events import Event, new_event
from ..model import normalize_severity
from ..state import IncidentState
from ._base import ALIASES, COMMANDS, Command, CommandError, Invocation, text_data

_BACKDATE = re.compile(r"^@(?P<stamp>\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(?::\d{2})?|\d{1,2}:\d{2}(?::\d{2})?)(?:\s+|$)")


def _local_now(now: datetime | None) -> datetime:
    """`now` in the zone back-dates are read in: the given one, else the process's local zone."""
    if now is None:
        return datetime.now().astimezone()
    return now if now.tzinfo is not None else now.astimezone()


AHEAD_REFUSED = timedelta(minutes=60)  # `@TIME` up to this far ahead is refused, not yesterday


def _backdate(stamp: str, now: datetime) -> datetime:
    try:
        if ":" in stamp and ("-" in stamp):
            dt = datetime.fromisoformat(stamp.replace(" ", "T"))
            return dt.replace(tzinfo=now.tzinfo) if dt.tzinfo is None else dt
        parts = [int(p) for p in stamp.split(":")]
        hh, mm, ss = parts[0], parts[1], parts[2] if len(parts) > 2 else 0
        dt = now.replace(hour=hh, minute=mm, second=ss, microsecond=0)
    except ValueError:
        raise CommandError(f"@{stamp} is not a time; write @14:02 or @2026-11-26T23:50") from None
    # `@14:02` is the most recent past 14:02 (a scribe catching up after midnight means
    # yesterday). A time just ahead of the clock is clock skew or a typo: refuse it, never
    # move it a day back in silence.
    if dt > now + timedelta(minutes=1):
        if dt - now <= AHEAD_REFUSED:
            ahead = int((dt - now).total_seconds() // 60) or 1
            yesterday = (dt - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
            raise CommandError(
                f"@{stamp} is {ahead} min ahead of the clock ({now:%H:%M}); for yesterday write @{yesterday}"
            )
        dt -= timedelta(days=1)
    return dt


def parse(line: str, now: datetime | None = None) -> Command:
    """Split a typed line into a command; only syntax is checked here."""
    text = line.strip()
    at = None
    m = _BACKDATE.match(text)
    if m:
        at = _backdate(m.group("stamp"), _local_now(now))
        text = text[m.end() :].strip()
    elif text.startswith("@") and re.match(r"^@\d", text):
        raise CommandError(f"{text.split()[0]} is not a time; write @14:02 or @2026-11-26T23:50")
    if not text:
        raise CommandError("nothing to log: type a note, or a command such as /decision TEXT")
    if text.startswith("//"):
        return Command("note", text[1:], at)  # `//` logs a note that starts with a slash
    if not text.startswith("/"):
        return Command("note", text, at)
    head, _, rest = text[1:].partition(" ")
    name = head.lower()
    name = ALIASES.get(name, name)
    if name not in COMMANDS:
        close = [c for c in COMMANDS if c.startswith(name[:3])] if name else []
        hint = f"did you mean /{close[0]}? " if close else ""
        raise CommandError(
            f"unknown command /{head}; {hint}commands: "
            + " ".join("/" + c for c in COMMANDS)
            + " (start with // to log a note beginning with /)"
        )
    return Command(name, rest.strip(), at)


def declare_event(
    title: str, author: str, severity: str = "SEV3", summary: str = "", at: datetime | None = None
) -> Event:
    """The event that starts an incident; refuses an empty title or unknown severity."""
    if not title.strip():
        raise CommandError("an incident needs a title: incident-tui declare TITLE")
    sev = normalize_severity(severity)
    if sev is None:
        raise CommandError(f"unknown severity {severity!r}; use SEV1 (critical) to SEV5 (cosmetic)")
    data = {"title": title.strip(), "severity": sev}
    if summary.strip():
        data["summary"] = summary.strip()
    return new_event(str(uuid.uuid4()), "incident.declared", author, data, at)


def to_events(
    line: str | Command,
    state: IncidentState,
    author: str,
    runbooks: Runbooks,
    now: datetime | None = None,
) -> list[Event]:
    """The events one command line writes into `state`'s incident."""
    cmd = parse(line, now) if isinstance(line, str) else line
    if cmd.name == "note":
        return [new_event(state.id, "note", author, text_data(cmd.args), cmd.at)]
    spec = COMMANDS.get(cmd.name)
    if spec is None:
        raise CommandError(f"/{cmd.name} is not available here")
    return spec.to_events(Invocation(cmd, state, author, runbooks, spec.usage))
