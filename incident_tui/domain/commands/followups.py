"""Follow-ups (action items): `/followup TEXT [@owner] [due:YYYY-MM-DD] [link:URL]` opens F1, F2, ...;
`/done F3` closes one, `/link F3 URL` links it to its tracker issue."""

from __future__ import annotations

import re
from datetime import date, datetime

from ..events import Event
from ..state import FollowUp, IncidentState, note_person
from ._base import Arg, CommandError, Invocation, command, folds, parse_number, parse_user, text_data

_OWNER = re.compile(r"(?:^|\s)@(\S+)")
_DUE = re.compile(r"(?:^|\s)due:(\S+)")
_LINK = re.compile(r"(?:^|\s)link:(\S+)")
# A tracker link: one http(s) URL, nothing Markdown or a terminal could read as more.
_URL = re.compile(r"https?://[^\s<>`\\\"'|\x00-\x1f\x7f]+", re.IGNORECASE)
MAX_URL = 2000


@command(
    "followup",
    "/followup TEXT [@owner] [due:YYYY-MM-DD] [link:URL]",
    "add a follow-up (F1, F2, ...)",
    args=(Arg.TEXT,),
    writes=("followup",),
    rank=190,
)
def _followup(inv: Invocation) -> list[Event]:
    return [inv.event("followup", _followup_data(inv.need_text(), inv.usage))]


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
        # The last @name is the owner; earlier ones stay in the text (people it mentions).
        owner = parse_user(owners[-1], usage)
        text = _OWNER.sub(lambda mm: "" if mm.group(1) == owners[-1] else mm.group(0), text).strip()
        text = re.sub(r"\s{2,}", " ", text)
    if not text:
        raise CommandError(f"/followup needs text: {usage}")
    data = text_data(text)
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


@command("done", "/done F3", "close a follow-up", args=(Arg.OPEN_FOLLOWUP,), writes=("followup.done",), rank=200)
def _done(inv: Invocation) -> list[Event]:
    n = parse_number(inv.args, "F", inv.usage)
    f = inv.state.followup(n)
    if f is None:
        raise CommandError(f"no follow-up F{n}; add one with /followup TEXT")
    if f.done:
        raise CommandError(f"F{n} is already done")
    return [inv.event("followup.done", {"number": n})]


@command(
    "link",
    "/link F3 URL",
    "link a follow-up to its tracker issue",
    args=(Arg.UNLINKED_FOLLOWUP, Arg.TEXT),
    writes=("followup.link",),
    rank=280,
)
def _link(inv: Invocation) -> list[Event]:
    parts = inv.args.split()
    if len(parts) != 2:
        raise CommandError(f"/link needs a follow-up and a URL: {inv.usage}")
    n = parse_number(parts[0], "F", inv.usage)
    if inv.state.followup(n) is None:
        raise CommandError(f"no follow-up F{n}; add one with /followup TEXT")
    return [inv.event("followup.link", {"number": n, "url": _url(parts[1], inv.usage)})]


@folds("followup")
def _fold_followup(state: IncidentState, e: Event, at: datetime) -> None:
    n = len(state.followups) + 1
    owner = e.data.get("owner") or None
    link = e.data.get("link")
    state.followups.append(
        FollowUp(
            n,
            e.text,
            e.author,
            at,
            e.seq or 0,
            owner=owner,
            due=e.data.get("due") or None,
            link=link if isinstance(link, str) and link else None,
        )
    )
    note_person(state, owner)


@folds("followup.link")
def _fold_followup_link(state: IncidentState, e: Event, at: datetime) -> None:
    f = state.followup(e.data["number"])
    if f is not None:
        f.link = e.data["url"] or None


@folds("followup.done")
def _fold_followup_done(state: IncidentState, e: Event, at: datetime) -> None:
    f = state.followup(e.data["number"])
    if f is not None:
        f.done, f.done_by, f.done_at = True, e.author, at
