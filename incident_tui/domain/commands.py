"""The command language (SPEC 4): one grammar for the command bar and `incident-tui log`.

`parse` turns a typed line into a `Command`; `to_events` checks it against the
incident's state and turns it into events. A refused line raises `CommandError`
whose message is one line saying what would work; nothing is written.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .checklists import Runbooks
from .events import Event, new_event
from .fold import IncidentState
from .model import CATEGORIES, LESSONS, MULTI_ROLES, PHASES, ROLES, match_phase, normalize_severity
from .text import extract_tags


class CommandError(ValueError):
    """A refused command line; str() is the one-line reason."""


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    usage: str
    help: str


_SPECS = (
    CommandSpec("decision", "/decision TEXT", "record a decision"),
    CommandSpec("action", "/action TEXT", "record an action taken"),
    CommandSpec("obs", "/obs TEXT", "record an observation"),
    CommandSpec("hypothesis", "/hypothesis TEXT", "open a hypothesis (H1, H2, ...)"),
    CommandSpec("confirm", "/confirm H2 [TEXT]", "confirm a hypothesis"),
    CommandSpec("reject", "/reject H2 [TEXT]", "reject a hypothesis"),
    CommandSpec("update", "/update TEXT", "stakeholder status update"),
    CommandSpec("sev", "/sev 1..5", "change severity"),
    CommandSpec("phase", "/phase NAME", "change phase: " + ", ".join(PHASES)),
    CommandSpec("assign", "/assign ROLE USER", "give USER a role: " + ", ".join(ROLES)),
    CommandSpec("release", "/release ROLE [USER]", "take a role back"),
    CommandSpec("handoff", "/handoff USER", "hand command to USER with a snapshot"),
    CommandSpec("check", "/check N", "toggle item N of this phase's checklist"),
    CommandSpec("title", "/title TEXT", "set the title"),
    CommandSpec("summary", "/summary TEXT", "set the summary"),
    CommandSpec("impact", "/impact TEXT", "describe the impact"),
    CommandSpec("category", "/category NAME", "categorize: " + ", ".join(CATEGORIES) + " or your own"),
    CommandSpec("detected", "/detected TEXT", "how it was detected (back-date with @ for impact start)"),
    CommandSpec("followup", "/followup TEXT [@owner] [due:YYYY-MM-DD] [link:URL]", "add a follow-up (F1, F2, ...)"),
    CommandSpec("done", "/done F3", "close a follow-up"),
    CommandSpec("rootcause", "/rootcause TEXT", "record the root cause"),
    CommandSpec("why", "/why [CHAIN:] TEXT", "add one of the five whys (chains: impact, recovery: or your own)"),
    CommandSpec("resolve", "/resolve", "move to phase resolved"),
    CommandSpec("mitigate", "/mitigate TEXT", "an action that reduced or ended the impact"),
    CommandSpec("dataloss", "/dataloss TEXT", "what data was lost or put at risk (none is an answer)"),
    CommandSpec("background", "/background TEXT", "context a postmortem reader needs"),
    CommandSpec("lesson", "/lesson well|wrong|lucky TEXT", "a lesson: what went well, wrong, or lucky"),
    CommandSpec("link", "/link F3 URL", "link a follow-up to its tracker issue"),
)
COMMANDS: dict[str, CommandSpec] = {s.name: s for s in _SPECS}

_TEXT_COMMANDS = {
    "decision": "decision",
    "action": "action",
    "obs": "obs",
    "hypothesis": "hypothesis",
    "update": "update",
    "detected": "detected",
    "rootcause": "rootcause",
    "mitigate": "mitigation",
    "dataloss": "dataloss",
    "background": "background",
}
_FIELD_COMMANDS = {"title": "title.set", "summary": "summary.set", "impact": "impact.set"}

_BACKDATE = re.compile(r"^@(?P<stamp>\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(?::\d{2})?|\d{1,2}:\d{2}(?::\d{2})?)(?:\s+|$)")
_USER = re.compile(r"^[A-Za-z0-9_][\w.\-]{0,63}$")
_OWNER = re.compile(r"(?:^|\s)@(\S+)")
_DUE = re.compile(r"(?:^|\s)due:(\S+)")
_LINK = re.compile(r"(?:^|\s)link:(\S+)")
# A tracker link: one http(s) URL, nothing Markdown or a terminal could read as more.
_URL = re.compile(r"https?://[^\s<>`\\\"'|\x00-\x1f\x7f]+", re.IGNORECASE)
# `/why recovery: TEXT`: a chain name is one word before a colon.
_CHAIN = re.compile(r"^([A-Za-z][\w\-]{0,39}):\s+(\S.*)$", re.DOTALL)
MAX_URL = 2000


@dataclass(frozen=True, slots=True)
class Command:
    name: str  # "note" for a plain line, else the command without its slash
    args: str
    at: datetime | None = None  # back-dated time, if the line began with @TIME


def _local_now(now: datetime | None) -> datetime:
    """`now` in the zone back-dates are read in: the given one, else the process's local zone."""
    if now is None:
        return datetime.now().astimezone()
    return now if now.tzinfo is not None else now.astimezone()


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
    # A scribe catching up just after midnight means yesterday, not later today.
    if dt > now + timedelta(minutes=1):
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
    if name not in COMMANDS:
        close = [c for c in COMMANDS if c.startswith(name[:3])] if name else []
        hint = f"did you mean /{close[0]}? " if close else ""
        raise CommandError(
            f"unknown command /{head}; {hint}commands: "
            + " ".join("/" + c for c in COMMANDS)
            + " (start with // to log a note beginning with /)"
        )
    return Command(name, rest.strip(), at)


def _need_text(cmd: Command) -> str:
    if not cmd.args:
        raise CommandError(f"/{cmd.name} needs text: {COMMANDS[cmd.name].usage}")
    return cmd.args


def _user(raw: str, usage: str) -> str:
    user = raw.strip().removeprefix("@")
    if not user:
        raise CommandError(f"needs a user name: {usage}")
    if not _USER.match(user):
        raise CommandError(f"{raw!r} is not a user name (letters, digits, . _ -): {usage}")
    return user


def _number(raw: str, letter: str, usage: str) -> int:
    token = raw.strip().split()[0] if raw.strip() else ""
    digits = token[1:] if token[:1].upper() == letter else token
    if not digits.isdigit() or int(digits) < 1:
        raise CommandError(f"needs a number like {letter}2: {usage}")
    return int(digits)


def _text_data(text: str) -> dict:
    data: dict = {"text": text}
    tags = extract_tags(text)
    if tags:
        data["tags"] = tags
    return data


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
    at = cmd.at

    def ev(kind: str, data: dict) -> Event:
        return new_event(state.id, kind, author, data, at)

    name, args = cmd.name, cmd.args
    usage = COMMANDS[name].usage if name in COMMANDS else ""
    if name == "note":
        return [ev("note", _text_data(args))]
    if name == "why":
        text = _need_text(cmd)
        m = _CHAIN.match(text)
        if m and "://" not in text.split(None, 1)[0]:
            data = _text_data(m.group(2))
            data["chain"] = m.group(1).lower()
            return [ev("why", data)]
        return [ev("why", _text_data(text))]
    if name == "lesson":
        sort, _, text = args.partition(" ")
        sort = sort.lower()
        if sort not in LESSONS or not text.strip():
            raise CommandError(f"/lesson needs well, wrong or lucky, then text: {usage}")
        data = _text_data(text.strip())
        data["lesson"] = sort
        return [ev("lesson", data)]
    if name == "link":
        parts = args.split()
        if len(parts) != 2:
            raise CommandError(f"/link needs a follow-up and a URL: {usage}")
        n = _number(parts[0], "F", usage)
        if state.followup(n) is None:
            raise CommandError(f"no follow-up F{n}; add one with /followup TEXT")
        return [ev("followup.link", {"number": n, "url": _url(parts[1], usage)})]
    if name in _TEXT_COMMANDS:
        return [ev(_TEXT_COMMANDS[name], _text_data(_need_text(cmd)))]
    if name in _FIELD_COMMANDS:
        return [ev(_FIELD_COMMANDS[name], {"value": _need_text(cmd)})]
    if name == "category":
        return [ev("category.set", {"value": _need_text(cmd).lower()})]
    if name in ("confirm", "reject"):
        n = _number(args, "H", usage)
        h = state.hypothesis(n)
        if h is None:
            have = ", ".join(f"H{x.number}" for x in state.hypotheses) or "none yet"
            raise CommandError(f"no hypothesis H{n} (open ones: {have}); add one with /hypothesis TEXT")
        note = args.split(None, 1)[1] if len(args.split(None, 1)) > 1 else ""
        data: dict = {"number": n}
        if note:
            data.update(_text_data(note))
        return [ev("hypothesis.confirmed" if name == "confirm" else "hypothesis.rejected", data)]
    if name == "sev":
        sev = normalize_severity(args)
        if sev is None:
            raise CommandError(f"unknown severity {args!r}; use /sev 1 (critical) to /sev 5 (cosmetic)")
        if sev == state.severity:
            raise CommandError(f"{state.ref} is already {sev}")
        return [ev("severity.set", {"severity": sev})]
    if name in ("phase", "resolve"):
        if name == "resolve":
            if args:
                raise CommandError("/resolve takes no text; log a note or /update first")
            phase = "resolved"
        else:
            phase, found = match_phase(args)
            if phase is None:
                if found:
                    raise CommandError(f"/phase {args} is ambiguous: {' or '.join(found)}")
                raise CommandError(f"unknown phase {args!r}; phases: {', '.join(PHASES)}")
        if phase == state.phase:
            raise CommandError(f"{state.ref} is already in phase {phase}")
        return [ev("phase.set", {"phase": phase})]
    if name == "assign":
        parts = args.split()
        if len(parts) != 2:
            raise CommandError(f"/assign needs a role and a user: {usage}; roles: {', '.join(ROLES)}")
        role = _role(parts[0])
        user = _user(parts[1], usage)
        if user in state.holders(role):
            raise CommandError(f"{user} already holds {role}")
        return [ev("role.assigned", {"role": role, "user": user})]
    if name == "release":
        parts = args.split()
        if not 1 <= len(parts) <= 2:
            raise CommandError(f"/release needs a role: {usage}")
        role = _role(parts[0])
        holders = state.holders(role)
        if len(parts) == 2:
            user = _user(parts[1], usage)
            if user not in holders:
                raise CommandError(f"{user} does not hold {role} (held by: {', '.join(holders) or 'nobody'})")
            return [ev("role.released", {"role": role, "user": user})]
        if not holders:
            raise CommandError(f"nobody holds {role}")
        if role in MULTI_ROLES and len(holders) > 1:
            raise CommandError(f"several people hold {role}: /release {role} USER ({', '.join(holders)})")
        return [ev("role.released", {"role": role, "user": holders[0]})]
    if name == "handoff":
        user = _user(args, usage)
        if state.commander == user:
            raise CommandError(f"{user} is already the commander")
        return [
            ev("role.assigned", {"role": "commander", "user": user}),
            ev("snapshot", {"at_seq": state.last_seq, "to": user, "from": state.commander or ""}),
        ]
    if name == "check":
        items = runbooks.get(state.phase, ())
        if not items:
            raise CommandError(f"phase {state.phase} has no checklist")
        n = _number(args, "#", f"/check N (1-{len(items)})")
        if n > len(items):
            raise CommandError(f"phase {state.phase} has items 1-{len(items)}; /check N")
        item = items[n - 1]
        done = state.is_checked(state.phase, item.id) is None
        data = {"phase": state.phase, "item": item.id, "done": done, "index": n, "text": item.text}
        return [ev("checklist.set", data)]
    if name == "followup":
        return [ev("followup", _followup_data(_need_text(cmd), usage))]
    if name == "done":
        n = _number(args, "F", usage)
        f = state.followup(n)
        if f is None:
            raise CommandError(f"no follow-up F{n}; add one with /followup TEXT")
        if f.done:
            raise CommandError(f"F{n} is already done")
        return [ev("followup.done", {"number": n})]
    raise CommandError(f"/{name} is not available here")  # pragma: no cover - COMMANDS is exhaustive


def _role(raw: str) -> str:
    role = raw.lower().removeprefix("@")
    if role == "ic":
        role = "commander"
    if role not in ROLES:
        raise CommandError(f"unknown role {raw!r}; roles: {', '.join(ROLES)}")
    return role


def _url(raw: str, usage: str) -> str:
    if len(raw) > MAX_URL or not _URL.fullmatch(raw):
        raise CommandError(f"{raw[:80]!r} is not an http(s) URL: {usage}")
    return raw


def _followup_data(text: str, usage: str) -> dict:
    owner = None
    due = None
    link = None
    m = _LINK.search(text)
    if m:
        link = _url(m.group(1), usage)
        text = (text[: m.start()] + text[m.end() :]).strip()
    m = _DUE.search(text)
    if m:
        try:
            due = date.fromisoformat(m.group(1)).isoformat()
        except ValueError:
            raise CommandError(f"due:{m.group(1)} is not a date; write due:YYYY-MM-DD") from None
        text = (text[: m.start()] + text[m.end() :]).strip()
    owners = _OWNER.findall(text)
    if owners:
        owner = _user(owners[-1], usage)
        text = _OWNER.sub(lambda mm: "" if mm.group(1) == owners[-1] else mm.group(0), text).strip()
        text = re.sub(r"\s{2,}", " ", text)
    if not text:
        raise CommandError(f"/followup needs text: {usage}")
    data = _text_data(text)
    # `#1105` in a follow-up is a tracker reference, not a tag (`link:` links the issue).
    tags = [t for t in data.get("tags", []) if not t.isdigit()]
    if tags:
        data["tags"] = tags
    else:
        data.pop("tags", None)
    if owner:
        data["owner"] = owner
    if due:
        data["due"] = due
    if link:
        data["link"] = link
    return data
