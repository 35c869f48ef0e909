"""What the outside world hears of an incident (SPEC 11): notices and reminders.

Pure: a notice is derived from an event and the incident's state just before and just
after it, so re-deriving from the same log always gives the same notices (the delivery
outbox relies on that to resume after a restart without skipping or repeating).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .events import Event
from .fold import IncidentState
from .model import SEVERITIES

TRIGGERS: tuple[str, ...] = ("declared", "severity", "phase", "role", "update", "resolved", "reminder")
NO_COMMANDER_MINUTES = 10  # default: a declared incident without a commander after this is a reminder


@dataclass(frozen=True, slots=True)
class Facts:
    """The incident as a notice shows it, frozen at the moment of the change."""

    id: str
    ref: str
    title: str
    severity: str
    phase: str
    commander: str | None
    declared_at: datetime

    @classmethod
    def of(cls, s: IncidentState) -> Facts:
        return cls(s.id, s.ref, s.title, s.severity, s.phase, s.commander, s.declared_at)


@dataclass(frozen=True, slots=True)
class Notice:
    key: str  # stable across re-derivation: the event id, or the reminder's key
    trigger: str
    change: str  # one line: what changed ("severity changed from SEV2 to SEV1")
    severity: str  # the more severe of before and after: what min_severity compares with
    facts: Facts
    event: Event | None = None
    seq: int = 0


@dataclass(frozen=True, slots=True)
class Before:
    """The few fields of the state before an event that a notice needs to say "from"."""

    severity: str
    phase: str
    commander: str | None


def before(s: IncidentState) -> Before:
    return Before(s.severity, s.phase, s.commander)


def severity_rank(sev: str) -> int:
    """SEV1 -> 1 ... SEV5 -> 5; unknown counts as least severe."""
    return SEVERITIES.index(sev) + 1 if sev in SEVERITIES else len(SEVERITIES) + 1


def notice_for(event: Event, prior: Before | None, after: IncidentState) -> Notice | None:
    """The notice one event gives, or None when it is not news (notes, ticks, hypotheses...)."""
    facts = Facts.of(after)
    sev = after.severity
    k, d = event.kind, event.data
    if k == "incident.declared":
        trigger = "declared"
        change = f"declared at {facts.severity} by {event.author}"  # the title is in every message's head
    elif prior is None:
        return None
    elif k == "severity.set":
        if d.get("severity") == prior.severity:
            return None
        trigger = "severity"
        change = f"severity changed from {prior.severity} to {after.severity}"
        sev = min(prior.severity, after.severity, key=severity_rank)
    elif k == "phase.set":
        if d.get("phase") == prior.phase:
            return None
        trigger = "resolved" if after.phase == "resolved" else "phase"
        change = f"phase changed from {prior.phase} to {after.phase}"
        if trigger == "resolved":
            change = f"{facts.ref} resolved (was {prior.phase})"
    elif k == "role.assigned":
        trigger = "role"
        change = f"{d.get('user')} is now {d.get('role')}"
        if d.get("role") == "commander" and prior.commander and prior.commander != d.get("user"):
            change = f"command handed from {prior.commander} to {d.get('user')}"
    elif k == "role.released":
        trigger = "role"
        who = d.get("user") or "everyone"
        change = f"{who} released {d.get('role')}"
    elif k == "update":
        trigger = "update"
        change = f"status update: {event.text}"
    else:
        return None
    return Notice(event.id, trigger, change, sev, facts, event, event.seq or 0)


@dataclass(frozen=True, slots=True)
class Reminder:
    key: str  # one key per occurrence: a later overdue after a new update is a new key
    kind: str  # no-commander | update-overdue
    text: str
    since: datetime


def reminders(s: IncidentState, now: datetime, no_commander_minutes: float = NO_COMMANDER_MINUTES) -> list[Reminder]:
    """What an active incident is owed, from its state alone (SPEC 11: no commander N
    minutes after declaration; a status update overdue by the severity's cadence)."""
    if not s.active:
        return []
    out: list[Reminder] = []
    if s.commander is None:
        due = s.declared_at + timedelta(minutes=no_commander_minutes)
        if now >= due:
            mins = int((now - s.declared_at).total_seconds() // 60)
            out.append(
                Reminder(
                    f"reminder:no-commander:{s.id}:{s.declared_seq}",
                    "no-commander",
                    f"{s.ref} has no commander {mins} min after declaration (/assign commander NAME)",
                    due,
                )
            )
    due = s.next_update_due()
    if due is not None and now >= due:
        late = int((now - due).total_seconds() // 60)
        out.append(
            Reminder(
                f"reminder:update-overdue:{s.id}:{due.isoformat()}",
                "update-overdue",
                f"{s.ref} status update overdue by {late} min ({s.severity} cadence; /update TEXT)",
                due,
            )
        )
    return out


def reminder_notice(r: Reminder, s: IncidentState) -> Notice:
    return Notice(r.key, "reminder", r.text, s.severity, Facts.of(s))
