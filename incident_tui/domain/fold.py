"""The fold from events to incident state. State is only ever built here.

`apply` advances a state by one event so that live views fold incrementally; `fold`
is the pure whole-log form. Both give the same state for the same events.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .events import Event, parse_at
from .model import ACTIVE_PHASES, DEFAULT_WHY_CHAIN, LESSONS, MULTI_ROLES, UPDATE_CADENCE_MIN


@dataclass(slots=True)
class Hypothesis:
    number: int
    text: str
    author: str
    at: datetime
    seq: int
    status: str = "open"  # open | confirmed | rejected
    note: str = ""
    settled_by: str = ""
    settled_at: datetime | None = None


@dataclass(slots=True)
class FollowUp:
    number: int
    text: str
    author: str
    at: datetime
    seq: int
    owner: str | None = None
    due: str | None = None
    link: str | None = None  # the tracker issue or ticket (`link:URL`, `/link F3 URL`)
    done: bool = False
    done_by: str = ""
    done_at: datetime | None = None


@dataclass(slots=True)
class CheckMark:
    done: bool
    by: str
    at: datetime
    seq: int


@dataclass(slots=True)
class RoleChange:
    at: datetime
    seq: int
    role: str
    user: str
    assigned: bool  # False: released
    author: str


@dataclass(slots=True)
class IncidentState:
    id: str
    number: int
    title: str
    severity: str
    declared_at: datetime
    declared_by: str
    declared_seq: int
    summary: str = ""
    impact: str = ""
    category: str = ""
    phase: str = "detected"
    phase_entered: dict[str, datetime] = field(default_factory=dict)
    phase_history: list[tuple[str, datetime, int]] = field(default_factory=list)
    severity_history: list[tuple[str, datetime, int]] = field(default_factory=list)
    roles: dict[str, list[str]] = field(default_factory=dict)
    role_history: list[RoleChange] = field(default_factory=list)
    checklist: dict[tuple[str, str], CheckMark] = field(default_factory=dict)
    hypotheses: list[Hypothesis] = field(default_factory=list)
    followups: list[FollowUp] = field(default_factory=list)
    rootcause: str = ""
    whys: list[str] = field(default_factory=list)  # every why, in order, whatever its chain
    why_chains: dict[str, list[str]] = field(default_factory=dict)  # chain -> its whys, chains in first use
    mitigations: list[Event] = field(default_factory=list)  # `/mitigate`: what reduced or ended the impact
    dataloss: list[Event] = field(default_factory=list)
    background: list[Event] = field(default_factory=list)
    lessons: dict[str, list[Event]] = field(default_factory=lambda: {k: [] for k in LESSONS})
    detected: list[tuple[datetime, str]] = field(default_factory=list)
    last_update_at: datetime | None = None
    commander_first_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    snapshots: list[Event] = field(default_factory=list)
    timeline: list[Event] = field(default_factory=list)
    people: dict[str, None] = field(default_factory=dict)
    last_seq: int = 0
    alert_groups: set[str] = field(default_factory=set)  # alert groups (groupKey) this incident holds
    alert_status: dict[str, str] = field(default_factory=dict)  # fingerprint -> firing | resolved

    def alert_counts(self) -> tuple[int, int]:
        """(firing, resolved): the alerts on this incident by their latest status."""
        firing = sum(1 for v in self.alert_status.values() if v == "firing")
        return firing, len(self.alert_status) - firing

    @property
    def ref(self) -> str:
        return f"INC-{self.number}"

    @property
    def active(self) -> bool:
        return self.phase in ACTIVE_PHASES

    def holders(self, role: str) -> list[str]:
        return self.roles.get(role, [])

    @property
    def commander(self) -> str | None:
        holders = self.roles.get("commander")
        return holders[0] if holders else None

    @property
    def impact_started_at(self) -> datetime | None:
        """When impact began, where `/detected` said so (the earliest such time)."""
        return min((at for at, _ in self.detected), default=None)

    @property
    def ended_at(self) -> datetime | None:
        return self.resolved_at

    def elapsed(self, now: datetime) -> timedelta:
        end = self.resolved_at or now
        return max(end - self.declared_at, timedelta(0))

    def next_update_due(self) -> datetime | None:
        """Stakeholder updates are due every 30 min at SEV1, 60 at SEV2, while active."""
        cadence = UPDATE_CADENCE_MIN.get(self.severity)
        if cadence is None or not self.active:
            return None
        base = self.last_update_at or self.declared_at
        return base + timedelta(minutes=cadence)

    def hypothesis(self, number: int) -> Hypothesis | None:
        return self.hypotheses[number - 1] if 0 < number <= len(self.hypotheses) else None

    def followup(self, number: int) -> FollowUp | None:
        return self.followups[number - 1] if 0 < number <= len(self.followups) else None

    def is_checked(self, phase: str, item: str) -> CheckMark | None:
        mark = self.checklist.get((phase, item))
        return mark if mark and mark.done else None


def _see(state: IncidentState, name: str | None) -> None:
    if name:
        state.people.setdefault(name, None)


def declare(event: Event, number: int) -> IncidentState:
    at = parse_at(event.at)
    seq = event.seq or 0
    state = IncidentState(
        id=event.incident,
        number=number,
        title=str(event.data.get("title", "")),
        severity=str(event.data.get("severity", "SEV3")),
        summary=str(event.data.get("summary", "")),
        declared_at=at,
        declared_by=event.author,
        declared_seq=seq,
        phase_entered={"detected": at},
        phase_history=[("detected", at, seq)],
    )
    state.severity_history.append((state.severity, at, seq))
    state.timeline.append(event)
    state.last_seq = seq
    _see(state, event.author)
    return state


def apply(state: IncidentState, event: Event) -> None:
    """Advance `state` by one event of its incident (events arrive in seq order)."""
    state.timeline.append(event)
    if event.seq is not None:
        state.last_seq = event.seq
    _see(state, event.author)
    handler = _HANDLERS.get(event.kind)
    if handler is not None:
        handler(state, event, parse_at(event.at))


def _set_field(name: str):
    def handler(state: IncidentState, e: Event, at: datetime) -> None:
        setattr(state, name, str(e.data["value"]))

    return handler


def _severity(state: IncidentState, e: Event, at: datetime) -> None:
    state.severity = e.data["severity"]
    state.severity_history.append((state.severity, at, e.seq or 0))


def _phase(state: IncidentState, e: Event, at: datetime) -> None:
    phase = e.data["phase"]
    state.phase = phase
    state.phase_entered[phase] = at
    state.phase_history.append((phase, at, e.seq or 0))
    if phase == "monitoring" and state.mitigated_at is None:
        state.mitigated_at = at
    if phase == "resolved":
        state.resolved_at = at
    elif phase in ACTIVE_PHASES:
        state.resolved_at = None  # reopened: the end time is no longer the end


def _assigned(state: IncidentState, e: Event, at: datetime) -> None:
    role, user = e.data["role"], e.data["user"]
    holders = state.roles.setdefault(role, [])
    if role in MULTI_ROLES:
        if user not in holders:
            holders.append(user)
    else:
        holders[:] = [user]
    if role == "commander" and state.commander_first_at is None:
        state.commander_first_at = at
    state.role_history.append(RoleChange(at, e.seq or 0, role, user, True, e.author))
    _see(state, user)


def _released(state: IncidentState, e: Event, at: datetime) -> None:
    role = e.data["role"]
    user = e.data.get("user")
    holders = state.roles.get(role, [])
    gone = [h for h in holders if not user or h == user]
    holders[:] = [h for h in holders if h not in gone]
    for h in gone:
        state.role_history.append(RoleChange(at, e.seq or 0, role, h, False, e.author))


def _checklist(state: IncidentState, e: Event, at: datetime) -> None:
    key = (e.data["phase"], e.data["item"])
    state.checklist[key] = CheckMark(bool(e.data["done"]), e.author, at, e.seq or 0)


def _hypothesis(state: IncidentState, e: Event, at: datetime) -> None:
    n = len(state.hypotheses) + 1
    state.hypotheses.append(Hypothesis(n, e.text, e.author, at, e.seq or 0))


def _settle(status: str):
    def handler(state: IncidentState, e: Event, at: datetime) -> None:
        h = state.hypothesis(e.data["number"])
        if h is not None:
            h.status = status
            h.note = str(e.data.get("text", ""))
            h.settled_by = e.author
            h.settled_at = at

    return handler


def _followup(state: IncidentState, e: Event, at: datetime) -> None:
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
    _see(state, owner)


def _followup_link(state: IncidentState, e: Event, at: datetime) -> None:
    f = state.followup(e.data["number"])
    if f is not None:
        f.link = e.data["url"] or None


def _followup_done(state: IncidentState, e: Event, at: datetime) -> None:
    f = state.followup(e.data["number"])
    if f is not None:
        f.done, f.done_by, f.done_at = True, e.author, at


def _rootcause(state: IncidentState, e: Event, at: datetime) -> None:
    state.rootcause = e.text


def _why(state: IncidentState, e: Event, at: datetime) -> None:
    state.whys.append(e.text)
    chain = e.data.get("chain")
    chain = chain if isinstance(chain, str) and chain else DEFAULT_WHY_CHAIN
    state.why_chains.setdefault(chain, []).append(e.text)


def _collect(name: str):
    def handler(state: IncidentState, e: Event, at: datetime) -> None:
        getattr(state, name).append(e)

    return handler


def _lesson(state: IncidentState, e: Event, at: datetime) -> None:
    bucket = state.lessons.get(e.data["lesson"])
    if bucket is not None:
        bucket.append(e)


def _detected(state: IncidentState, e: Event, at: datetime) -> None:
    state.detected.append((at, e.text))


def _update(state: IncidentState, e: Event, at: datetime) -> None:
    if state.last_update_at is None or at > state.last_update_at:
        state.last_update_at = at


def _snapshot(state: IncidentState, e: Event, at: datetime) -> None:
    state.snapshots.append(e)


def _alert(state: IncidentState, e: Event, at: datetime) -> None:
    # Recorded, never acted on: a resolved alert does not resolve the incident (SPEC 11).
    state.alert_groups.add(e.data["group"])
    state.alert_status[e.data["fingerprint"]] = e.data["status"]


_HANDLERS = {
    "title.set": _set_field("title"),
    "summary.set": _set_field("summary"),
    "impact.set": _set_field("impact"),
    "category.set": _set_field("category"),
    "severity.set": _severity,
    "phase.set": _phase,
    "role.assigned": _assigned,
    "role.released": _released,
    "checklist.set": _checklist,
    "hypothesis": _hypothesis,
    "hypothesis.confirmed": _settle("confirmed"),
    "hypothesis.rejected": _settle("rejected"),
    "followup": _followup,
    "followup.done": _followup_done,
    "followup.link": _followup_link,
    "mitigation": _collect("mitigations"),
    "dataloss": _collect("dataloss"),
    "background": _collect("background"),
    "lesson": _lesson,
    "rootcause": _rootcause,
    "why": _why,
    "detected": _detected,
    "update": _update,
    "snapshot": _snapshot,
    "alert": _alert,
}


class Registry:
    """Every incident in a store, folded incrementally in seq order.

    Incidents are numbered by the order of their `incident.declared` events, so every
    client that folds the same log derives the same `INC-N`.
    """

    def __init__(self) -> None:
        self.incidents: dict[str, IncidentState] = {}
        self.order: list[IncidentState] = []
        self.last_seq = 0
        self.orphans = 0  # events of an incident not (yet) declared: skipped, counted

    def apply(self, event: Event) -> IncidentState | None:
        if event.seq is not None:
            self.last_seq = max(self.last_seq, event.seq)
        state = self.incidents.get(event.incident)
        if event.kind == "incident.declared":
            if state is not None:
                return state  # a second declaration of the same incident id changes nothing
            state = declare(event, len(self.order) + 1)
            self.incidents[event.incident] = state
            self.order.append(state)
            return state
        if state is None:
            self.orphans += 1
            return None
        apply(state, event)
        return state

    def extend(self, events: Iterable[Event]) -> set[str]:
        """Apply events; returns the ids of the incidents they touched."""
        touched: set[str] = set()
        for e in events:
            s = self.apply(e)
            if s is not None:
                touched.add(s.id)
        return touched

    def resolve(self, ref: str) -> IncidentState | None:
        """`INC-7`, `inc-7`, `7` or the incident's uuid (or a unique uuid prefix of 8+)."""
        r = ref.strip()
        num = r[4:] if r.upper().startswith("INC-") else r
        if num.isdigit():
            n = int(num)
            return self.order[n - 1] if 0 < n <= len(self.order) else None
        if r in self.incidents:
            return self.incidents[r]
        if len(r) >= 8:
            found = [s for s in self.order if s.id.startswith(r.lower())]
            if len(found) == 1:
                return found[0]
        return None

    def active(self) -> list[IncidentState]:
        return [s for s in self.order if s.active]


def fold(events: Iterable[Event]) -> Registry:
    reg = Registry()
    reg.extend(events)
    return reg
