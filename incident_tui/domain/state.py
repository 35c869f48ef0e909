"""The state of one incident, as the fold builds it (SPEC 3). Only the fold writes to it."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta

from .events import Event
from .model import ACTIVE_PHASES, LESSONS, UPDATE_CADENCE_MIN


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

    def copy(self) -> IncidentState:
        """A copy later events do not change, so it can be read (rendered) outside the lock
        that guards this one. Costs a copy of the timeline's list of references, not of the
        events (immutable): ~5 ms at a million entries. Containers are copied one level
        down (lists in dicts too); hypotheses and follow-ups, changed in place, are copied."""

        def own(v: object) -> object:
            if isinstance(v, Hypothesis | FollowUp):
                return replace(v)
            if isinstance(v, list):
                return [own(x) for x in v] if v and isinstance(v[0], Hypothesis | FollowUp) else list(v)
            if isinstance(v, dict):
                return {k: list(x) if isinstance(x, list) else x for k, x in v.items()}
            if isinstance(v, set):
                return set(v)
            return v

        copied = {f.name: own(getattr(self, f.name)) for f in fields(self) if f.name != "timeline"}
        return replace(self, **copied, timeline=self.timeline.copy())


def note_person(state: IncidentState, name: str | None) -> None:
    """Remember a name seen in this incident (completion offers it first)."""
    if name:
        state.people.setdefault(name, None)
