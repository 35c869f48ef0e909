"""The blameless postmortem draft (SPEC 9), in Markdown and as stable JSON.

It reads like the document a team publishes after a light edit: Summary,
Background, Timeline, Root cause and resolution, Lessons learned, Communication,
Corrective and preventive measures, Metrics. Whatever the incident has not recorded
yet is said in place, with the command that records it, so a gap is never silent.

Both forms come from the same facts (`_facts`): the JSON (`postmortem_data`,
README "Postmortem JSON") keeps every entry; the Markdown compacts what a reader
skims (role changes and checklist ticks) and quotes the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import count, islice, pairwise
from operator import attrgetter, le
from typing import Any, NamedTuple

from ..domain.checklists import Runbooks, item_status
from ..domain.events import Event, parse_at
from ..domain.fold import FollowUp, IncidentState
from ..domain.model import ACTIVE_PHASES, DEFAULT_WHY_CHAIN, LESSONS, SEVERITIES, UPDATE_CADENCE_MIN
from ..domain.serialize import hypothesis_json
from ..domain.serialize import wire_time as _t
from . import clock
from .markdown import _ASCII_SPECIAL, _BLOCK_FIRST, _REFERENCE, _SPECIAL, code, inline, link, missing, table
from .metrics import Metrics, incident_metrics

SCHEMA = "incident-tui/postmortem"
SCHEMA_VERSION = 1

SECTIONS = (
    "Summary",
    "Background",
    "Timeline",
    "Root cause and resolution",
    "Lessons learned",
    "Communication",
    "Corrective and preventive measures",
    "Metrics",
)

# What each gap asks for: (the JSON `missing` key, the command that fills it).
HINTS: dict[str, str] = {
    "impact_start": "@HH:MM /detected TEXT",
    "detected": "/detected TEXT",
    "impact": "/impact TEXT",
    "dataloss": "/dataloss TEXT",
    "rootcause": "/rootcause TEXT",
    "background": "/background TEXT",
    "whys": "/why [CHAIN:] TEXT",
    "mitigations": "/mitigate TEXT",
    "lessons.well": "/lesson well TEXT",
    "lessons.wrong": "/lesson wrong TEXT",
    "lessons.lucky": "/lesson lucky TEXT",
    "updates": "/update TEXT",
    "followups": "/followup TEXT @owner due:YYYY-MM-DD link:URL",
    "commander": "/assign commander NAME",
    "mitigated": "/phase monitoring",
    "resolved": "/resolve",
}


_AT, _KIND, _SEQ = attrgetter("at"), attrgetter("kind"), attrgetter("seq")  # a million rows: read in C


# -- The facts both forms are rendered from ---------------------------------------------


class Interval(NamedTuple):
    """The stretch between two stakeholder updates (or the declaration and the first).
    A NamedTuple: a long incident has thousands, and a frozen dataclass is slow to make."""

    start: datetime
    end: datetime
    severity: str  # held at `start`: the cadence the next update was owed at
    cadence: int | None  # minutes; None: no cadence at that severity
    update: Event | None  # the update that ended it; None: it ran to the resolution or now
    kept: bool | None  # None: no cadence was owed


def _interval(start: datetime, end: datetime, sev: str, update: Event | None) -> Interval:
    cadence = UPDATE_CADENCE_MIN.get(sev)
    kept = None if cadence is None else end - start <= _CADENCE[cadence]
    return Interval(start, end, sev, cadence, update, kept)


_CADENCE = {m: timedelta(minutes=m) for m in set(UPDATE_CADENCE_MIN.values())}


@dataclass(frozen=True, slots=True)
class Facts:
    m: Metrics
    now: datetime
    impact_start: datetime | None  # when impact began, where a back-dated /detected says so
    mitigated: datetime | None
    resolved: datetime | None
    intervals: list[Interval]
    late_updates: list[Event]  # updates after the resolution: not held to a cadence
    missing: list[str]  # HINTS keys of what the draft still lacks
    kinds: list[str]  # of the timeline's events, by position: read once, searched in C


def _positions(kinds: list[str], kind: str) -> list[int]:
    """Where `kind` is in `kinds`: `list.index` skips the other kinds in C (a million rows
    hold a few phase changes), ~10x a comparison per row in a `map`."""
    out: list[int] = []
    i = -1
    try:
        while True:
            i = kinds.index(kind, i + 1)
            out.append(i)
    except ValueError:
        return out


def _intervals(s: IncidentState, end: datetime, kinds: list[str]) -> tuple[list[Interval], list[Event]]:
    tl = s.timeline
    updates = sorted(map(tl.__getitem__, _positions(kinds, "update")), key=lambda e: (e.at, e.seq or 0))
    # The severity held at a time: the last change at or before it, walked alongside.
    changes = sorted(((at, seq, sev) for sev, at, seq in s.severity_history), key=lambda c: (c[0], c[1]))
    held = s.severity_history[0][0] if s.severity_history else s.severity
    k = 0

    def severity_at(at: datetime) -> str:
        nonlocal held, k
        while k < len(changes) and changes[k][0] <= at:
            held = changes[k][2]
            k += 1
        return held

    out: list[Interval] = []
    late: list[Event] = []
    start = s.declared_at
    for e in updates:
        at = parse_at(e.at)
        if s.resolved_at is not None and at > s.resolved_at:
            late.append(e)
            continue
        stop = max(at, start)
        out.append(_interval(start, stop, severity_at(start), e))
        start = stop
    if end > start:  # the stretch after the last update, up to the resolution (or now)
        out.append(_interval(start, end, severity_at(start), None))
    return out, late


def _facts(s: IncidentState, runbooks: Runbooks, now: datetime) -> Facts:
    m = incident_metrics(s, now)
    kinds = list(map(_KIND, s.timeline))
    intervals, late = _intervals(s, m.end, kinds)
    gaps = []
    if m.impact_started_at is None:
        gaps.append("impact_start")
    for key, present in (
        ("detected", s.detected),
        ("impact", s.impact),
        ("dataloss", s.dataloss),
        ("rootcause", s.rootcause),
        ("background", s.background),
        ("whys", s.whys),
        ("mitigations", s.mitigations),
        *((f"lessons.{k}", s.lessons.get(k)) for k in LESSONS),
        ("updates", any(i.update for i in intervals) or late),
        ("followups", s.followups),
        ("commander", s.commander_first_at),
        ("mitigated", s.mitigated_at),
        ("resolved", s.resolved_at),
    ):
        if not present:
            gaps.append(key)
    return Facts(m, now, m.impact_started_at, s.mitigated_at, s.resolved_at, intervals, late, gaps, kinds)


def _hint(key: str) -> str:
    return code(HINTS[key])


# -- Markdown -----------------------------------------------------------------------------


def postmortem_document(state: IncidentState, runbooks: Runbooks, now: datetime) -> str:
    """The postmortem draft of `state` in Markdown; `now` only matters while it is unresolved."""
    out: list[str] = []
    _postmortem(state, runbooks, now, out, None)
    return "\n".join(out)


def write_postmortem(state: IncidentState, runbooks: Runbooks, now: datetime, write: Callable[[str], object]) -> None:
    """`postmortem_document`'s text handed to `write` in pieces of about `_PIECE` lines.

    A 1M-event incident's document is 66 MB: whole, it was held three times at once (its
    lines, the joined text, the text encoded), ~250 MB of a process that holds ~800 MB of
    events; each MB first touched costs ~1 ms of page faults here (the CLI verb's sys time
    was ~1 s of its 5 s). In pieces, the same memory is used again and again."""
    out: list[str] = []
    started = False

    def flush(force: bool = False) -> None:
        nonlocal started
        if out and (force or len(out) >= _PIECE):
            text = "\n".join(out)
            write("\n" + text if started else text)  # exactly "\n".join of every line
            started = True
            out.clear()  # in place: the timeline's `put` is bound to this list

    _postmortem(state, runbooks, now, out, flush)
    flush(force=True)


_PIECE = 20_000


def _postmortem(
    state: IncidentState, runbooks: Runbooks, now: datetime, out: list[str], flush: Callable[[], None] | None
) -> None:
    """The document's lines into `out`; `flush`, if given, may take them away now and then."""
    f = _facts(state, runbooks, now)
    out += [
        f"# Postmortem: {state.ref} · {inline(state.title, 300)}",
        "",
        f"_Blameless draft generated {clock.stamp(now)} from the timeline (events up to seq {state.last_seq})."
        f" All times are {_zones(state, f.m)}. It describes what happened and what we will change,"
        " not who is to blame; edit it before publishing._",
    ]
    out += _summary(state, f)
    out += _background(state)
    _timeline(state, f, out, flush)
    out += _root_cause(state, f)
    out += _lessons(state)
    out += _communication(state, f)
    out += _measures(state)
    out += _metrics(state, f, runbooks)
    out.append("")


def _zones(s: IncidentState, m: Metrics) -> str:
    """The zone times are shown in, and the one a DST change switched to (rows then say so)."""
    latest = max([m.end, *(parse_at(e.at) for e in s.timeline[-1:])])
    first, last = clock.zone(s.declared_at), clock.zone(latest)
    return first if first == last else f"{first}, then {last} where marked"


def _since(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return ""
    return clock.duration(max(end - start, timedelta(0)))


# -- Summary --------------------------------------------------------------------------------


def _summary(s: IncidentState, f: Facts) -> list[str]:
    out = ["", "## Summary", ""]
    out.append(f"- **Impact window:** {_window(s, f)}")
    out.append(f"- **Detected:** {_detected(s, f)}")
    if s.dataloss:
        lost = "; ".join(inline(e.text) for e in s.dataloss)
    else:
        lost = missing(f"not recorded — {_hint('dataloss')} says what was lost or put at risk (`/dataloss none`).")
    out.append(f"- **Data lost:** {lost}")
    no_impact = missing(f"not described — add it with {_hint('impact')}.")
    out.append(f"- **Impact:** {inline(s.impact) or no_impact}")
    if s.summary:
        out.append(f"- **Summary:** {inline(s.summary)}")
    out.append(f"- **Severity:** {_severity_story(s, f.m)}")
    if s.category:
        out.append(f"- **Category:** {inline(s.category, 100)}")
    no_cause = missing(f"No root cause recorded yet — add one with {_hint('rootcause')}.")
    out.append(f"- **Root cause:** {inline(s.rootcause) or no_cause}")
    out.append(f"- **Responders:** {_responders(s)}.")
    return out


def _window(s: IncidentState, f: Facts) -> str:
    """From impact start (or, unknown, the declaration) to mitigation and resolution."""
    start = f.impact_start
    if start is not None:
        text = f"from {clock.stamp(start)} (impact began)"
    else:
        text = (
            f"from {clock.stamp(s.declared_at)} (declared; when impact began is not recorded —"
            f" {_hint('impact_start')} back-dated to it)"
        )
    begin = start or s.declared_at
    if f.mitigated is not None:
        text += f" to {clock.stamp(f.mitigated)} (mitigated, {_since(begin, f.mitigated)})"
    if f.resolved is not None:
        joint = " and " if f.mitigated is not None else " to "
        text += f"{joint}{clock.stamp(f.resolved)} (resolved, {_since(begin, f.resolved)})."
    else:
        so_far = clock.duration(max(f.now - begin, timedelta(0)))
        if f.mitigated is None:
            text += f"; {so_far} so far, " + missing(
                f"not mitigated or resolved yet (phase {s.phase}) — {_hint('mitigated')}, then {_hint('resolved')}."
            )
        else:
            text += "; " + missing(f"not resolved yet (phase {s.phase}) — {_hint('resolved')} records the end.")
    return text


def _detected(s: IncidentState, f: Facts) -> str:
    if not s.detected:
        return missing(f"not recorded — {_hint('detected')} says how ({code('@HH:MM')} in front: when impact began).")
    how = "; ".join(inline(text, 500) for _at, text in s.detected)
    text = f"{how}; declared {clock.stamp(s.declared_at)}"
    if f.m.time_to_detect is not None:
        text += f", {clock.duration(f.m.time_to_detect)} after impact began"
    return text + "."


def _severity_story(s: IncidentState, m: Metrics) -> str:
    history = s.severity_history
    first = history[0][0] if history else s.severity
    changes = []
    for (before, _a, _s), (sev, at, _seq) in pairwise(history):
        if sev != before:
            verb = "escalated" if SEVERITIES.index(sev) < SEVERITIES.index(before) else "downgraded"
            changes.append(f"{verb} to {sev} at {clock.clock(at, s.declared_at)}")
    return f"{m.peak_severity} at peak (declared {first}" + "".join(f", {c}" for c in changes) + ")"


def _role_holders(s: IncidentState) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for rc in s.role_history:
        if rc.assigned:
            names = out.setdefault(rc.role, [])
            if rc.user not in names:
                names.append(rc.user)
    return out


def _responders(s: IncidentState) -> str:
    held = _role_holders(s)
    commanders = held.get("commander", [])
    people = [f"commander {', '.join(inline(c, 100) for c in commanders)}" if commanders else "no commander assigned"]
    for role in ("deputy", "scribe", "comms", "sme"):
        if held.get(role):
            people.append(f"{role} {', '.join(inline(n, 100) for n in held[role])}")
    return "; ".join(people)


# -- Background -------------------------------------------------------------------------


def _background(s: IncidentState) -> list[str]:
    out = ["", "## Background", ""]
    if not s.background:
        out.append(
            missing(
                f"No background recorded — {_hint('background')} adds what a reader needs"
                " (the system's architecture, its normal behaviour)."
            )
        )
    for i, e in enumerate(s.background):
        if i:
            out.append("")
        out.append(inline(e.text))
    return out


# -- Timeline ---------------------------------------------------------------------------


class _Treat(str):
    """How a kind's events read in the Timeline, where it is not a text row's prefix."""


SKIP = _Treat("skip")  # left out: it has its own section, or is bookkeeping
MINOR = _Treat("minor")  # skimmed: consecutive ones share one row (role changes, ticks)
DESCRIBED = _Treat("described")  # a row of its own wording (`_describe`, hypotheses, phases)

# The postmortem's one table keyed by kind. A plain string is the prefix of a text row (the
# bulk of a long timeline, written without a call per row; an empty note is left out).
# Every kind of the model has a row (tests/core/test_catalogue.py checks it); the sets the
# timeline's loop reads are derived from it.
TIMELINE_ROWS: dict[str, str] = {
    "note": "",
    "decision": "**Decision**: ",
    "action": "**Action**: ",
    "mitigation": "**Mitigation**: ",
    "obs": "Observation: ",
    "update": "Status update: ",
    "detected": "**Detected**: ",
    "dataloss": "**Data loss**: ",
    "hypothesis": DESCRIBED,
    "phase.set": DESCRIBED,
    "incident.declared": DESCRIBED,
    "severity.set": DESCRIBED,
    "snapshot": DESCRIBED,
    "hypothesis.confirmed": DESCRIBED,
    "hypothesis.rejected": DESCRIBED,
    "alert": DESCRIBED,
    "impact.set": DESCRIBED,
    "category.set": DESCRIBED,
    "page": DESCRIBED,
    "role.assigned": MINOR,
    "role.released": MINOR,
    "checklist.set": MINOR,
    "followup": SKIP,  # Corrective and preventive measures
    "followup.done": SKIP,
    "followup.link": SKIP,
    "rootcause": SKIP,  # Root cause and resolution
    "why": SKIP,
    "title.set": SKIP,  # the document's own title and summary
    "summary.set": SKIP,
    "background": SKIP,  # Background
    "lesson": SKIP,  # Lessons learned
}
_SKIP = frozenset(k for k, v in TIMELINE_ROWS.items() if v is SKIP)
_MINOR = frozenset(k for k, v in TIMELINE_ROWS.items() if v is MINOR)
_TEXT_ROWS = {k: v for k, v in TIMELINE_ROWS.items() if not isinstance(v, _Treat)}


def _phase_rows(s: IncidentState, kinds: list[str]) -> dict[int, str]:
    """How each `phase.set` reads, by its position in the timeline. "Mitigated" (the first
    move to monitoring) and "Reopened" (an active phase after `resolved`) follow the
    fold's order, not the rows' time order, so they are worked out first, in seq order."""
    out: dict[int, str] = {}
    seen_monitoring = False
    was_resolved = False
    tl = s.timeline
    for i in _positions(kinds, "phase.set"):
        phase = tl[i].data["phase"]
        if phase == "monitoring" and not seen_monitoring:
            out[i] = "**Mitigated**: phase monitoring, watching for recurrence"
            seen_monitoring = True
        elif phase == "resolved":
            out[i] = "**Resolved**: normal operation restored"
            was_resolved = True
        elif phase in ACTIVE_PHASES and was_resolved:
            out[i] = f"**Reopened**: phase {phase}"
            was_resolved = False
        else:
            out[i] = f"Phase: {phase}"
    return out


def _timeline(s: IncidentState, f: Facts, out: list[str], flush: Callable[[], None] | None) -> None:
    out += [
        "",
        "## Timeline",
        "",
        f"_Times are {_zones(s, f.m)}, sorted by when things happened (back-dated entries included);"
        " the date is given where the day changes. Role changes and checklist ticks in a row share one line;"
        f" {code(f'incident-tui events {s.ref}')} has the full log._",
        "",
    ]
    out += table(("Time", "What happened", "Who"), ())
    _timeline_rows(s, out.append, f.kinds, flush or _no_flush)


def _no_flush() -> None:
    pass


def _timeline_rows(
    s: IncidentState, put: Callable[[str], None], kinds: list[str], flush: Callable[[], None] = _no_flush
) -> None:
    """The table's rows, in time order: the timeline is in seq order, so a stable sort of
    positions by wire-form time (which sorts as time; a C-level key, no datetime per row)
    keeps seq order among equal times. Lines are written in that order in one pass: this
    is the one table that can run to a million rows, so what can be worked out for every
    row at once is, before the loop."""
    tl = s.timeline
    wire = clock.wire
    ats = [a if len(a) == 24 and a[-1] == "Z" else wire(a) for a in map(_AT, tl)]
    rows: Iterable[tuple[int, Event, str, str]]
    if all(map(le, ats, islice(ats, 1, None))):  # in time order already (the usual case)
        rows = zip(count(), tl, ats, kinds)  # 1M rows: no sort, no lookups by position (-0.1 s)
    else:
        order = sorted(range(len(tl)), key=ats.__getitem__)
        rows = zip(
            order, map(tl.__getitem__, order), map(ats.__getitem__, order), map(kinds.__getitem__, order), strict=True
        )
    described = _Described(s, kinds)
    day_clock = _DayClock(s.declared_at)
    clock_at = day_clock.wire
    last_day = ""
    authors: dict[str, str] = {}  # a few people write thousands of lines: escape each name once
    text_rows, skip, minor = _TEXT_ROWS, _SKIP, _MINOR
    special, reference, first, ascii_special = _SPECIAL.search, _REFERENCE.search, _BLOCK_FIRST, _ASCII_SPECIAL.search
    run: list[tuple[str, str, tuple[str, str]]] = []  # role changes and ticks waiting to share a row
    minute, mday, head, suffix = "\n" * 17, None, "", ""  # the UTC minute of the last row written
    for i, e, at, kind in rows:
        prefix = text_rows.get(kind)
        if prefix is not None:  # the bulk of a long timeline: `inline`'s own fast path, inlined
            t = e.data.get("text", "")
            if not (
                t.__class__ is str
                and len(t) <= 4000
                and (ascii_special(t) is None if t.isascii() else (t.isprintable() and special(t) is None))
                and (not t or (t[0] not in first and t[-1] != " " and t[0] != " "))
                and "://" not in t
                and (
                    (h := t.find("#")) < 0  # a tag (`#db`) is no reference: one `#` looked at, no regex
                    or (
                        t[-1] != "#"
                        and not ("0" <= t[h + 1] <= "9")
                        and (t.find("#", h + 1) < 0 or reference(t) is None)
                    )
                )
            ):
                t = inline(t)
                if not t and not prefix:
                    continue
        elif kind in skip:
            continue
        elif kind in minor:
            who = authors.get(e.author) or authors.setdefault(e.author, inline(e.author, 100))
            run.append((at, who, _minor(e)))
            continue
        else:
            row = described.row(e, i)
            if row is None:
                continue
            prefix, t = "", row
        who = authors.get(e.author)
        if who is None:
            who = authors[e.author] = inline(e.author, 100)
        if run:
            put(_minor_row(run, clock_at))
            last_day = day_clock.last_day
            run = []
        if not at.startswith(minute):  # rows come in time order: a minute is worked out once
            minute = at[:16]
            mday, head, suffix = day_clock.minute(minute)
            flush()  # between rows, now and then: a writer may take what is written so far
        if mday != last_day:  # the day changes: the general path writes the date
            put(f"| {clock_at(at)} | {prefix}{t} | {who} |")
            last_day = day_clock.last_day
        else:
            put(f"| {head}{at[17]}{at[18]}{suffix} | {prefix}{t} | {who} |")
    if run:
        put(_minor_row(run, clock_at))


class _Described:
    """The rows of their own wording (`DESCRIBED` kinds), with what they need to know of
    the rest of the incident: the severity each change left, hypotheses by number, and
    how each phase change reads."""

    __slots__ = ("hyp_text", "hyps", "phases", "prev_sev")

    def __init__(self, s: IncidentState, kinds: list[str]) -> None:
        self.prev_sev: dict[int, str] = {}
        for (before, _a, _s), (_sev, _at, seq) in pairwise(s.severity_history):
            self.prev_sev[seq] = before
        self.hyps = {h.seq: h for h in s.hypotheses}
        self.hyp_text = {h.number: h.text for h in s.hypotheses}
        self.phases = _phase_rows(s, kinds)

    def row(self, e: Event, i: int) -> str | None:
        """How the event at position `i` of the timeline reads (None: left out)."""
        if e.kind == "hypothesis":
            h = self.hyps.get(e.seq or 0)
            return f"Hypothesis{f' H{h.number}' if h else ''}: {inline(e.text)}"
        if e.kind == "phase.set":
            return self.phases[i]
        return _describe(e, self.prev_sev, self.hyp_text)


class _DayClock:
    """Row times: the local date in front of the first row and of every row where the day
    changes, the time alone elsewhere; the zone after a time whose offset differs from
    the declaration's (a DST change inside the incident). Worked out once per UTC minute
    (zone offsets are whole minutes): a timeline formats up to a million times, and its
    loop reads `minutes` itself while the day stays `last_day`."""

    __slots__ = ("_offset", "last_day", "minutes")

    def __init__(self, declared: datetime) -> None:
        self._offset = clock.local(declared).utcoffset()
        self.last_day = ""
        self.minutes: dict[str, tuple[str, str, str]] = {}  # `2026-03-02T21:10` -> (day, "HH:MM:", suffix)

    def minute(self, key: str) -> tuple[str, str, str]:
        """(local day, "HH:MM:", zone suffix) of the UTC minute `key` (`2026-03-02T21:10`)."""
        m = self.minutes.get(key)
        if m is None:
            d = clock.local(parse_at(key + ":00.000Z"))
            suffix = "" if d.utcoffset() == self._offset else " " + clock.stamp(d).rsplit(" ", 1)[1]
            m = self.minutes[key] = (d.strftime("%Y-%m-%d"), f"{d.hour:02d}:{d.minute:02d}:", suffix)
        return m

    def wire(self, at: str) -> str:
        day, head, suffix = self.minute(at[:16])
        if day != self.last_day:
            self.last_day = day
            return f"{day} {head}{at[17:19]}{suffix}"
        return head + at[17:19] + suffix


def _minor(e: Event) -> tuple[str, str]:
    """(what sort of bookkeeping, its text): `check`/`uncheck` texts are `phase\x00item`."""
    d = e.data
    if e.kind == "checklist.set":
        n = d.get("index")
        item = str(n) if isinstance(n, int) and not isinstance(n, bool) else inline(d.get("item", ""), 80)
        return ("check" if d.get("done") else "uncheck", f"{inline(d.get('phase', ''), 40)}\x00{item}")
    if e.kind == "role.assigned":
        return ("role", f"{inline(d['user'], 100)} is {inline(d['role'], 40)}")
    who = inline(d["user"], 100) if d.get("user") else "everyone"
    return ("role", f"{who} released from {inline(d['role'], 40)}")


def _items(parts: list[str]) -> str:
    """`triage\x002`, `triage\x001`, `mitigating\x001` -> `triage 2, 1; mitigating 1`."""
    by_phase: dict[str, list[str]] = {}
    for p in parts:
        phase, _, item = p.partition("\x00")
        by_phase.setdefault(phase, []).append(item)
    return "; ".join(f"{phase} {', '.join(items)}" for phase, items in by_phase.items())


def _minor_row(run: list[tuple[str, str, tuple[str, str]]], at: Callable[[str], str]) -> str:
    if len(run) == 1:  # the usual run (a long timeline has thousands): what the general path writes
        when, who, (sort, text) = run[0]
        if sort == "role":
            return f"| {at(when)} | Roles: {text} | {who} |"
        phase, _, item = text.partition("\x00")
        return f"| {at(when)} | Checklist {'ticked' if sort == 'check' else 'unticked'}: {phase} {item} | {who} |"
    parts: dict[str, list[str]] = {"role": [], "check": [], "uncheck": []}
    for _at, _who, (sort, text) in run:
        parts[sort].append(text)
    out = []
    if parts["role"]:
        out.append("Roles: " + "; ".join(parts["role"]))
    if parts["check"]:
        out.append(f"Checklist ticked: {_items(parts['check'])}")
    if parts["uncheck"]:
        out.append(f"Checklist unticked: {_items(parts['uncheck'])}")
    who = ", ".join(dict.fromkeys(r[1] for r in run))
    return f"| {at(run[0][0])} | {' · '.join(out)} | {who} |"


def _describe(e: Event, prev_sev: dict[int, str], hyp_text: dict[int, str]) -> str | None:
    k, d = e.kind, e.data
    if k == "incident.declared":
        return f"**Incident declared** at {d.get('severity', '')}: {inline(d.get('title', ''), 300)}"
    if k == "severity.set":
        new, old = d["severity"], prev_sev.get(e.seq or 0)
        if old is None or old == new:
            return f"Severity set to {new}"
        verb = "Escalated" if SEVERITIES.index(new) < SEVERITIES.index(old) else "Downgraded"
        return f"**{verb}** from {old} to {new}"
    if k == "snapshot":
        frm, to = d.get("from") or "", d.get("to") or ""
        hand = f" from {inline(frm, 100)}" if frm else ""
        hand += f" to {inline(to, 100)}" if to else ""
        return f"**Handoff**{hand} (snapshot as of seq {d['at_seq']})"
    if k in ("hypothesis.confirmed", "hypothesis.rejected"):
        n = d["number"]
        text = inline(hyp_text.get(n, ""))
        note = f" — {inline(e.text)}" if e.text else ""
        if k == "hypothesis.rejected":
            return f"**Ruled out** H{n}: {text}{note}"
        return f"**Confirmed** H{n}: {text}{note}"
    if k == "alert":
        url = link(d.get("url"))
        return f"Alert {inline(d.get('status', ''), 20)}: {inline(d.get('summary', ''))}" + (f" ({url})" if url else "")
    if k == "page":
        why = f": {inline(e.text)}" if e.text else ""
        return f"Paged {inline(d.get('user', ''), 100)}{why}"
    if k == "impact.set":
        return f"Impact assessed: {inline(d.get('value', ''))}"
    if k == "category.set":
        return f"Categorized: {inline(d.get('value', ''), 100)}"
    return None


# -- Root cause and resolution ----------------------------------------------------------

_HYPOTHESIS_LABELS = {"confirmed": "ruled in", "rejected": "ruled out", "open": "never settled"}


def _root_cause(s: IncidentState, f: Facts) -> list[str]:
    out = ["", "## Root cause and resolution", "", "### Root cause", ""]
    out.append(inline(s.rootcause) or missing(f"No root cause recorded yet — add one with {_hint('rootcause')}."))
    if not s.why_chains:
        out += ["", "### Five whys", ""]
        out.append(
            missing(
                f"No whys recorded yet — ask why five times with {code('/why TEXT')}"
                f" ({code('/why recovery: TEXT')} starts a second chain)."
            )
        )
    for chain, whys in s.why_chains.items():
        out += ["", f"### Five whys: {inline(chain, 60)}", ""]
        out += [f"{i}. {inline(w)}" for i, w in enumerate(whys, 1)]
        if len(whys) < 5:
            add = code("/why TEXT") if chain == DEFAULT_WHY_CHAIN else code(f"/why {chain}: TEXT")
            if chain != DEFAULT_WHY_CHAIN and not _plain_chain(chain):
                add = code("/why CHAIN: TEXT")
            out += ["", missing(f"{len(whys)} of five recorded; add more with {add}.")]
    out += ["", "### Hypotheses ruled in and out", ""]
    if not s.hypotheses:
        out.append(missing("No hypotheses were recorded."))
    for h in s.hypotheses:
        note = f" — {inline(h.note)}" if h.note else ""
        out.append(f"- **H{h.number}** {_HYPOTHESIS_LABELS.get(h.status, h.status)}: {inline(h.text)}{note}")
    out += ["", "### What restored service", ""]
    if s.mitigations:
        for e in sorted(s.mitigations, key=lambda e: (e.at, e.seq or 0)):
            out.append(f"- {clock.clock(parse_at(e.at), s.declared_at)} {inline(e.text)} ({inline(e.author, 100)})")
    else:
        out.append(missing(f"No mitigation recorded — {_hint('mitigations')} marks what reduced or ended the impact."))
    others = f.kinds.count("decision") + f.kinds.count("action")
    if others:
        out += ["", f"_{others} other decisions and actions are in the Timeline._"]
    ended = []
    begin = f.impact_start or s.declared_at
    since = "impact began" if f.impact_start is not None else "the declaration"
    if f.mitigated is not None:
        ended.append(
            f"**Mitigated** {clock.stamp(f.mitigated)} (phase monitoring), {_since(begin, f.mitigated)} after {since}"
        )
    else:
        ended.append(missing(f"not mitigated yet ({_hint('mitigated')} marks it)"))
    if f.resolved is not None:
        ended.append(f"**resolved** {clock.stamp(f.resolved)}, {_since(begin, f.resolved)} after {since}.")
    else:
        ended.append(missing(f"not resolved yet ({_hint('resolved')} records the end time)."))
    out += ["", "; ".join(ended)]
    return out


def _plain_chain(chain: str) -> bool:
    return chain.replace("-", "").replace("_", "").isalnum() and chain.isascii()


# -- Lessons learned -------------------------------------------------------------------


def _lessons(s: IncidentState) -> list[str]:
    out = ["", "## Lessons learned"]
    for key, title in LESSONS.items():
        out += ["", f"### {title}", ""]
        entries = s.lessons.get(key, [])
        if not entries:
            out.append(missing(f"None recorded — {_hint(f'lessons.{key}')}."))
        out += [f"- {inline(e.text)}" for e in entries]
    return out


# -- Communication ----------------------------------------------------------------------


def _communication(s: IncidentState, f: Facts) -> list[str]:
    out = ["", "## Communication", ""]
    comms = _role_holders(s).get("comms", [])
    lead = (
        f"Stakeholder communication: {', '.join(inline(c, 100) for c in comms)}."
        if comms
        else missing(f"Nobody held the comms role ({code('/assign comms NAME')}).")
    )
    out += [lead, ""]
    updates = [i for i in f.intervals if i.update is not None]
    if not updates and not f.late_updates:
        out.append(missing(f"No status updates recorded — {_hint('updates')} records one and restarts the clock."))
    else:
        at = clock.Clock(s.declared_at)
        authors: dict[str, str] = {}
        # An incident with thousands of updates has far fewer distinct gaps between them.
        gaps: dict[tuple[timedelta, str, bool | None, int | None, str], str] = {}
        rows = []
        for n, i in enumerate(updates):
            e = i.update
            assert e is not None
            label = "after the declaration" if n == 0 else "after the previous"
            who = authors.get(e.author) or authors.setdefault(e.author, inline(e.author, 100))
            key = (i.end - i.start, label, i.kept, i.cadence, i.severity)
            gap = gaps.get(key) or gaps.setdefault(key, _gap(i, label))
            rows.append((at.wire(clock.wire(e.at)), inline(e.text), who, gap))
        for e in f.late_updates:
            rows.append((at.wire(clock.wire(e.at)), inline(e.text), inline(e.author, 100), "after resolution"))
        out += table(("Time", "Update", "By", "Cadence"), rows)
    owed = [i for i in f.intervals if i.kept is not None]
    if owed:
        kept = sum(1 for i in owed if i.kept)
        out += ["", f"Cadence kept in {kept} of {len(owed)} intervals (every 30m at SEV1, 60m at SEV2, while active)."]
        missed = [i for i in owed if not i.kept]
        for i in missed:
            until = "the next update" if i.update is not None else ("resolution" if f.resolved else "now")
            late = clock.duration(i.end - i.start - timedelta(minutes=i.cadence or 0))
            out.append(
                f"- Missed: {clock.clock(i.start, s.declared_at)} → {until} {clock.clock(i.end, s.declared_at)},"
                f" {clock.duration(i.end - i.start)} at {i.severity} (due every {i.cadence}m; {late} late)."
            )
    return out


def _gap(i: Interval, label: str) -> str:
    gap = clock.duration(i.end - i.start)
    if i.kept is None:
        return f"{gap} {label}"
    return f"{gap} {label} ({'kept' if i.kept else 'missed'}, {i.cadence}m at {i.severity})"


# -- Corrective and preventive measures ------------------------------------------------


def _measures(s: IncidentState) -> list[str]:
    out = ["", "## Corrective and preventive measures", ""]
    if not s.followups:
        out.append(missing(f"No follow-ups recorded yet — add them with {_hint('followups')}."))
        return out
    open_f = [f for f in s.followups if not f.done]
    done_f = [f for f in s.followups if f.done]
    groups = [(f"Open ({len(open_f)})", open_f)]
    if done_f:  # an empty "Done" group is noise in a fresh draft; an empty "Open" one is news
        groups.append((f"Done ({len(done_f)})", done_f))
    for title, group in groups:
        out += [f"### {title}", ""]
        if not group:
            out += [missing("None: every follow-up is done."), ""]
            continue
        out += table(("#", "Action item", "Owner", "Due", "Link"), (_followup_row(f) for f in group))
        out.append("")
    no_owner = [f"F{f.number}" for f in open_f if not f.owner]
    no_due = [f"F{f.number}" for f in open_f if not f.due]
    no_link = [f"F{f.number}" for f in open_f if not f.link]
    if no_owner:
        out.append(f"- **Needs an owner:** {', '.join(no_owner)} — a measure nobody owns rarely happens.")
    if no_due:
        out.append(f"- **Needs a due date:** {', '.join(no_due)}.")
    if no_link:
        out.append(
            f"- **Not filed in a tracker yet:** {', '.join(no_link)} — {code(f'/link {no_link[0]} URL')} links one."
        )
    if out[-1] == "":
        out.pop()
    return out


def _followup_row(f: FollowUp) -> tuple[str, str, str, str, str]:
    owner = inline(f.owner, 100) if f.owner else missing("no owner")
    due = inline(f.due, 40) if f.due else missing("no due date")
    url = (link(f.link) or inline(f.link, 500)) if f.link else missing("no link")
    return (f"F{f.number}", inline(f.text), owner, due, url)


# -- Metrics ---------------------------------------------------------------------------


def _metrics(s: IncidentState, f: Facts, runbooks: Runbooks) -> list[str]:
    day = s.declared_at
    m = f.m
    at = lambda dt: clock.clock(dt, day)  # noqa: E731
    start = f.impact_start
    unknown = missing("impact start unknown")

    def pair(end: datetime | None, why_not: str) -> tuple[str, str]:
        if end is None:
            return missing(why_not), missing(why_not)
        from_impact = _since(start, end) if start is not None else unknown
        return from_impact, _since(s.declared_at, end)

    first_ic = next((rc for rc in s.role_history if rc.role == "commander" and rc.assigned), None)
    ack = pair(s.commander_first_at, "no commander yet")
    mit = pair(f.mitigated, "not mitigated yet")
    res = pair(f.resolved, "not resolved yet")
    rows = [
        (
            "Time to detect",
            clock.duration(m.time_to_detect) if m.time_to_detect is not None else unknown,
            "—",
            f"impact began {at(start)} → declared {at(s.declared_at)}"
            if start is not None
            else f"needs a {code('/detected')} entry back-dated ({code('@HH:MM')}) to when impact began",
        ),
        (
            "Time to acknowledge",
            *ack,
            f"→ first commander ({inline(first_ic.user, 100)}) {at(first_ic.at)}"
            if first_ic
            else f"→ first commander ({_hint('commander')})",
        ),
        ("Time to mitigate", *mit, f"→ monitoring {at(f.mitigated)}" if f.mitigated else "→ phase monitoring"),
        ("Time to resolve", *res, f"→ resolved {at(f.resolved)}" if f.resolved else "→ phase resolved"),
    ]
    out = ["", "## Metrics", ""]
    out += table(("Metric", "From impact start", "From declaration", "Measured"), rows)
    total = (m.end - s.declared_at).total_seconds()
    until = "resolved" if s.resolved_at else "now, still open"
    out += ["", f"### Time at each severity (declared → {until})", ""]
    out += table(
        ("Severity", "Time", "Share"),
        (
            (sev, clock.duration(td), f"{round(100 * td.total_seconds() / total)}%" if total > 0 else "-")
            for sev, td in m.time_at_severity.items()
        ),
    )
    lines = []
    for phase, items, left in _checklists(s, runbooks):
        done = len(items) - len(left)
        shown = [f"{i}. {inline(text)}" for i, text in left]
        lines.append(f"- **{phase}:** {done} of {len(items)} done" + (f"; open: {'; '.join(shown)}" if shown else ""))
    if lines:
        out += ["", "### Checklists of the phases passed through", "", *lines]
    return out


def _checklists(s: IncidentState, runbooks: Runbooks) -> list[tuple[str, tuple[Any, ...], list[tuple[int, str]]]]:
    out = []
    for phase in dict.fromkeys(p for p, _at, _seq in s.phase_history):
        items = tuple(runbooks.get(phase, ()))
        if items:
            left = [(i, it.text) for i, it in enumerate(items, 1) if not item_status(s, phase, it).done]
            out.append((phase, items, left))
    return out


# -- JSON -------------------------------------------------------------------------------


def _secs(td: timedelta | None) -> int | None:
    return None if td is None else int(td.total_seconds())


def _between(start: datetime | None, end: datetime | None) -> int | None:
    return None if start is None or end is None else int(max((end - start).total_seconds(), 0))


def _entry(e: Event) -> dict[str, Any]:
    return {"seq": e.seq, "at": clock.wire(e.at), "author": e.author, "text": e.text}


def postmortem_data(state: IncidentState, runbooks: Runbooks, now: datetime) -> dict[str, Any]:
    """The stable JSON form (README "Postmortem JSON"): keys are only ever added."""
    s = state
    f = _facts(s, runbooks, now)
    m = f.m
    start = f.impact_start
    hyps = [hypothesis_json(h) for h in s.hypotheses]
    for h, raw in zip(hyps, s.hypotheses, strict=True):
        h["ruled"] = {"confirmed": "in", "rejected": "out"}.get(raw.status)
    return {
        "schema": SCHEMA,
        "version": SCHEMA_VERSION,
        "ref": s.ref,
        "number": s.number,
        "id": s.id,
        "seq": s.last_seq,
        "generated_at": _t(now),
        "title": s.title,
        "severity": s.severity,
        "peak_severity": m.peak_severity,
        "severity_history": [{"severity": sev, "at": _t(at), "seq": seq} for sev, at, seq in s.severity_history],
        "phase": s.phase,
        "category": s.category,
        "summary": s.summary,
        "impact": s.impact,
        "window": {
            "impact_started_at": _t(start),
            "declared_at": _t(s.declared_at),
            "mitigated_at": _t(f.mitigated),
            "resolved_at": _t(f.resolved),
        },
        "detected": [{"at": _t(at), "text": text} for at, text in s.detected],
        "dataloss": [_entry(e) for e in s.dataloss],
        "background": [_entry(e) for e in s.background],
        "responders": _role_holders(s),
        "rootcause": s.rootcause,
        "whys": {chain: list(whys) for chain, whys in s.why_chains.items()},
        "hypotheses": hyps,
        "mitigations": [_entry(e) for e in sorted(s.mitigations, key=lambda e: (clock.wire(e.at), e.seq or 0))],
        "lessons": {k: [_entry(e) for e in s.lessons.get(k, [])] for k in LESSONS},
        "communication": _communication_data(s, f),
        "followups": [_followup_data(fu) for fu in s.followups],
        "metrics": _metrics_data(s, f),
        "checklists": [
            {"phase": phase, "total": len(items), "open": [{"n": n, "text": text} for n, text in left]}
            for phase, items, left in _checklists(s, runbooks)
        ],
        "timeline": _timeline_data(s),
        "missing": [{"what": key, "command": HINTS[key]} for key in f.missing],
    }


def _communication_data(s: IncidentState, f: Facts) -> dict[str, Any]:
    """Who communicated, each update with the interval it closed, and every interval."""
    return {
        "comms": _role_holders(s).get("comms", []),
        "updates": [
            {
                **_entry(i.update),
                "since_previous_seconds": _between(i.start, i.end),
                "severity": i.severity,
                "cadence_minutes": i.cadence,
                "kept": i.kept,
            }
            for i in f.intervals
            if i.update is not None
        ]
        + [{**_entry(e), "after_resolution": True} for e in f.late_updates],
        "intervals": [
            {
                "start": _t(i.start),
                "end": _t(i.end),
                "severity": i.severity,
                "cadence_minutes": i.cadence,
                "kept": i.kept,
                "ended_by_update_seq": i.update.seq if i.update else None,
            }
            for i in f.intervals
        ],
    }


def _followup_data(fu: FollowUp) -> dict[str, Any]:
    return {
        "ref": f"F{fu.number}",
        "text": fu.text,
        "owner": fu.owner,
        "due": fu.due,
        "link": fu.link,
        "done": fu.done,
        "done_at": _t(fu.done_at),
        "author": fu.author,
        "at": _t(fu.at),
    }


def _metrics_data(s: IncidentState, f: Facts) -> dict[str, Any]:
    m, start = f.m, f.impact_start
    return {
        "time_to_detect_seconds": _secs(m.time_to_detect),
        "from_impact_start": {
            "acknowledge_seconds": _between(start, s.commander_first_at),
            "mitigate_seconds": _between(start, f.mitigated),
            "resolve_seconds": _between(start, f.resolved),
        },
        "from_declaration": {
            "acknowledge_seconds": _secs(m.time_to_acknowledge),
            "mitigate_seconds": _secs(m.time_to_mitigate),
            "resolve_seconds": _secs(m.time_to_resolve),
        },
        "time_at_severity_seconds": {sev: _secs(td) for sev, td in m.time_at_severity.items()},
    }


def _timeline_data(s: IncidentState) -> list[dict[str, Any]]:
    """Every entry, in time order (then seq): each key worked out once per row, in C where
    it can be (a million rows)."""
    tl = s.timeline
    ats = list(map(clock.wire, map(_AT, tl)))
    seqs = list(map(_SEQ, tl))
    if None in seqs:
        seqs = [seq or 0 for seq in seqs]
    keys = list(zip(ats, seqs, strict=True))
    order = sorted(range(len(tl)), key=keys.__getitem__)
    return [
        {"seq": e.seq, "at": ats[i], "author": e.author, "kind": e.kind, "data": e.data}
        for i, e in zip(order, map(tl.__getitem__, order), strict=True)
    ]


def postmortem_json(state: IncidentState, runbooks: Runbooks, now: datetime) -> str:
    """`postmortem --format json` (README "Postmortem JSON")."""
    from .snapshot import json_text

    return json_text(postmortem_data(state, runbooks, now))
