"""The blameless postmortem draft, in Markdown, built from an incident's folded state.

It reads like the document a team publishes after a light edit: Issue summary,
Timeline, Root cause and resolution, Corrective and preventive measures, Metrics.
Whatever the incident has not recorded yet is said in place, with the command
that records it, so a gap is never silent.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise

from ..domain.checklists import Runbooks
from ..domain.events import Event, parse_at
from ..domain.fold import FollowUp, IncidentState
from ..domain.model import ACTIVE_PHASES, SEVERITIES
from . import clock
from .markdown import code, inline, missing, table
from .metrics import Metrics, incident_metrics

RESOLUTION_STEPS = 10  # decisions/actions quoted under "Resolution"; the Timeline has them all


def postmortem_document(state: IncidentState, runbooks: Runbooks, now: datetime) -> str:
    """The postmortem draft of `state`; `now` only matters while it is unresolved."""
    m = incident_metrics(state, now)
    out: list[str] = [
        f"# Postmortem: {state.ref} · {inline(state.title, 300)}",
        "",
        f"_Blameless draft generated {clock.stamp(now)} from the timeline (events up to seq {state.last_seq})."
        f" All times are {_zones(state, m)}. It describes what happened and what we will change,"
        " not who is to blame; edit it before publishing._",
    ]
    out += _summary(state, m)
    out += _timeline(state, m)
    out += _root_cause(state)
    out += _measures(state)
    out += _metrics(state, m, runbooks)
    out.append("")
    return "\n".join(out)


def _zones(s: IncidentState, m: Metrics) -> str:
    """The zone times are shown in, and the one a DST change switched to (rows then say so)."""
    latest = max([m.end, *(parse_at(e.at) for e in s.timeline[-1:])])
    first, last = clock.zone(s.declared_at), clock.zone(latest)
    return first if first == last else f"{first}, then {last} where marked"


# -- Issue summary ----------------------------------------------------------------------


def _summary(s: IncidentState, m: Metrics) -> list[str]:
    out = ["", "## Issue summary", ""]
    start = clock.stamp(s.declared_at)
    if s.resolved_at is not None:
        out.append(
            f"- **Duration:** {clock.duration(s.resolved_at - s.declared_at)}, from {start} (declared)"
            f" to {clock.stamp(s.resolved_at)} (resolved)."
        )
    else:
        out.append(
            f"- **Duration:** {clock.duration(m.end - s.declared_at)} so far, from {start} (declared); "
            + missing(f"not resolved yet (phase {s.phase}) — the end time is recorded by {code('/resolve')}.")
        )
    if m.impact_started_at is not None and m.time_to_detect is not None:
        out.append(
            f"- **Impact began:** {clock.stamp(m.impact_started_at)},"
            f" {clock.duration(m.time_to_detect)} before the incident was declared."
        )
    if s.detected:
        how = "; ".join(inline(text, 500) for _at, text in s.detected)
        out.append(f"- **Detected by:** {how}")
    else:
        hint = code("@HH:MM /detected TEXT")
        out.append(f"- **Detected by:** {missing(f'not recorded — {hint} says how and when.')}")
    no_impact = missing(f"not described — add it with {code('/impact TEXT')}.")
    out.append(f"- **Impact:** {inline(s.impact) or no_impact}")
    if s.summary:
        out.append(f"- **Summary:** {inline(s.summary)}")
    out.append(f"- **Severity:** {_severity_story(s, m)}")
    if s.category:
        out.append(f"- **Category:** {inline(s.category, 100)}")
    no_cause = missing(f"No root cause recorded yet — add one with {code('/rootcause TEXT')}.")
    out.append(f"- **Root cause:** {inline(s.rootcause) or no_cause}")
    commanders = list(dict.fromkeys(rc.user for rc in s.role_history if rc.role == "commander" and rc.assigned))
    people = [f"commander {', '.join(inline(c, 100) for c in commanders)}" if commanders else "no commander assigned"]
    for role in ("deputy", "scribe", "comms", "sme"):
        names = list(dict.fromkeys(rc.user for rc in s.role_history if rc.role == role and rc.assigned))
        if names:
            people.append(f"{role} {', '.join(inline(n, 100) for n in names)}")
    out.append(f"- **Responders:** {'; '.join(people)}.")
    return out


def _severity_story(s: IncidentState, m: Metrics) -> str:
    history = s.severity_history
    first = history[0][0] if history else s.severity
    changes = []
    for (before, _a, _s), (sev, at, _seq) in pairwise(history):
        if sev != before:
            verb = "escalated" if SEVERITIES.index(sev) < SEVERITIES.index(before) else "downgraded"
            changes.append(f"{verb} to {sev} at {clock.clock(at, s.declared_at)}")
    return f"{m.peak_severity} at peak (declared {first}" + "".join(f", {c}" for c in changes) + ")"


# -- Timeline ---------------------------------------------------------------------------

# Kinds left out of the timeline: they have their own sections or are bookkeeping.
_SKIP = frozenset(
    {"note", "checklist.set", "followup", "followup.done", "rootcause", "why", "title.set", "summary.set"}
)


_TEXT_ROWS = {
    "decision": "**Decision**: ",
    "action": "**Action**: ",
    "obs": "Observation: ",
    "update": "Status update: ",
    "detected": "**Detected**: ",
    "hypothesis": "Hypothesis: ",
}


def _timeline(s: IncidentState, m: Metrics) -> list[str]:
    prev_sev: dict[int, str] = {}
    for (before, _a, _s), (_sev, _at, seq) in pairwise(s.severity_history):
        prev_sev[seq] = before
    hyp_text = {h.number: h.text for h in s.hypotheses}
    rows: list[tuple[str, int, str, str]] = []
    authors: dict[str, str] = {}  # a few people write thousands of lines: escape each name once
    skipped = 0
    seen_monitoring = False
    was_resolved = False
    for e in s.timeline:  # seq order: "first time in monitoring" and "reopened" follow the fold
        if e.kind in _SKIP:
            skipped += e.kind == "note"
            continue
        what: str | None
        prefix = _TEXT_ROWS.get(e.kind)
        if prefix is not None:  # the bulk of a long timeline: skip the general describer
            what = prefix + inline(e.data.get("text", ""))
        elif e.kind == "phase.set":
            phase = e.data["phase"]
            if phase == "monitoring" and not seen_monitoring:
                what = "**Mitigated**: phase monitoring, watching for recurrence"
                seen_monitoring = True
            elif phase == "resolved":
                what = "**Resolved**: normal operation restored"
                was_resolved = True
            elif phase in ACTIVE_PHASES and was_resolved:
                what = f"**Reopened**: phase {phase}"
                was_resolved = False
            else:
                what = f"Phase: {phase}"
        else:
            what = _describe(e, prev_sev, hyp_text)
        if what is not None:
            who = authors.get(e.author)
            if who is None:
                who = authors[e.author] = inline(e.author, 100)
            rows.append((clock.wire(e.at), e.seq or 0, what, who))
    # Wire-form UTC strings sort as times; no datetime per row (100k-line timelines).
    rows.sort(key=lambda r: (r[0], r[1]))
    out = [
        "",
        "## Timeline",
        "",
        f"_Times are {_zones(s, m)}, sorted by when things happened (back-dated entries included)."
        + (
            f" {skipped} plain note{'s' if skipped != 1 else ''} and the checklist ticks are left out;"
            f" {code(f'incident-tui events {s.ref}')} has the full log._"
            if skipped
            else f" Checklist ticks are left out; {code(f'incident-tui events {s.ref}')} has the full log._"
        ),
        "",
    ]
    at = clock.Clock(s.declared_at)
    out += table(("Time", "What happened", "Who"), ())
    # Rows written directly: every cell is non-empty and already escaped, and this is the
    # one table that can run to tens of thousands of rows.
    out += [f"| {at.wire(when)} | {what} | {who} |" for when, _seq, what, who in rows]
    return out


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
    if k == "role.assigned":
        return f"Role: {inline(d['user'], 100)} is {inline(d['role'], 40)}"
    if k == "role.released":
        who = inline(d["user"], 100) if d.get("user") else "everyone"
        return f"Role: {who} released from {inline(d['role'], 40)}"
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
            return f"**Misleading path**: H{n} rejected: {text}{note}"
        return f"**H{n} confirmed**: {text}{note}"
    if k == "impact.set":
        return f"Impact assessed: {inline(d.get('value', ''))}"
    if k == "category.set":
        return f"Categorized: {inline(d.get('value', ''), 100)}"
    return None


# -- Root cause and resolution ----------------------------------------------------------


def _root_cause(s: IncidentState) -> list[str]:
    out = ["", "## Root cause and resolution", "", "### Root cause", ""]
    out.append(inline(s.rootcause) or missing(f"No root cause recorded yet — add one with {code('/rootcause TEXT')}."))
    out += ["", "### Five whys", ""]
    out += [f"{i}. {inline(w)}" for i, w in enumerate(s.whys, 1)]
    if not s.whys:
        out.append(missing(f"No whys recorded yet — ask why five times with {code('/why TEXT')}."))
    elif len(s.whys) < 5:
        out += ["", missing(f"{len(s.whys)} of five recorded; add more with {code('/why TEXT')}.")]
    out += ["", "### Hypotheses", ""]
    if not s.hypotheses:
        out.append(missing("No hypotheses were recorded."))
    labels = {"confirmed": "confirmed", "rejected": "rejected (misleading path)", "open": "never settled"}
    for h in s.hypotheses:
        note = f" — {inline(h.note)}" if h.note else ""
        out.append(f"- **H{h.number}** {labels.get(h.status, h.status)}: {inline(h.text)}{note}")
    out += ["", "### Resolution", ""]
    end = s.mitigated_at or s.resolved_at
    steps = [e for e in s.timeline if e.kind in ("decision", "action") and (end is None or parse_at(e.at) <= end)]
    lead = "What restored service" if end is not None else "Decisions and actions so far"
    if steps:
        shown = steps[-RESOLUTION_STEPS:]
        more = f" (the last {len(shown)} of {len(steps)}; the Timeline has all)" if len(steps) > len(shown) else ""
        out.append(f"{lead}{more}:")
        out.append("")
        for e in shown:
            out.append(f"- {clock.clock(parse_at(e.at), s.declared_at)} {e.kind}: {inline(e.text)}")
        out.append("")
    else:
        out += [missing(f"No decisions or actions recorded ({code('/decision TEXT')}, {code('/action TEXT')})."), ""]
    ended = []
    if s.mitigated_at is not None:
        after = clock.duration(s.mitigated_at - s.declared_at)
        ended.append(f"**Mitigated** {clock.stamp(s.mitigated_at)} (phase monitoring), {after} after the declaration")
    else:
        ended.append(missing("not mitigated yet (no move to phase monitoring)"))
    if s.resolved_at is not None:
        ended.append(f"**resolved** {clock.stamp(s.resolved_at)}.")
    else:
        ended.append(missing(f"not resolved yet ({code('/resolve')} records the end time)."))
    out.append("; ".join(ended))
    return out


# -- Corrective and preventive measures ------------------------------------------------


def _measures(s: IncidentState) -> list[str]:
    out = ["", "## Corrective and preventive measures", ""]
    if not s.followups:
        out.append(
            missing(f"No follow-ups recorded yet — add them with {code('/followup TEXT @owner due:YYYY-MM-DD')}.")
        )
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
        out += table(("#", "Action item", "Owner", "Due"), (_followup_row(f) for f in group))
        out.append("")
    no_owner = [f"F{f.number}" for f in open_f if not f.owner]
    no_due = [f"F{f.number}" for f in open_f if not f.due]
    if no_owner:
        out.append(f"- **Needs an owner:** {', '.join(no_owner)} — a measure nobody owns rarely happens.")
    if no_due:
        out.append(f"- **Needs a due date:** {', '.join(no_due)}.")
    if out[-1] == "":
        out.pop()
    return out


def _followup_row(f: FollowUp) -> tuple[str, str, str, str]:
    owner = inline(f.owner, 100) if f.owner else missing("no owner")
    due = inline(f.due, 40) if f.due else missing("no due date")
    return (f"F{f.number}", inline(f.text), owner, due)


# -- Metrics ---------------------------------------------------------------------------


def _metrics(s: IncidentState, m: Metrics, runbooks: Runbooks) -> list[str]:
    day = s.declared_at
    at = lambda dt: clock.clock(dt, day)  # noqa: E731

    def value(td: timedelta | None, why_not: str) -> str:
        return clock.duration(td) if td is not None else missing(why_not)

    first_ic = next((rc for rc in s.role_history if rc.role == "commander" and rc.assigned), None)
    rows = [
        (
            "Time to detect",
            value(m.time_to_detect, "not available"),
            f"impact began {at(m.impact_started_at)} → declared {at(s.declared_at)}"
            if m.impact_started_at
            else f"needs a {code('/detected')} entry back-dated ({code('@HH:MM')}) to when impact began",
        ),
        (
            "Time to acknowledge",
            value(m.time_to_acknowledge, "no commander yet"),
            f"declared → first commander ({inline(first_ic.user, 100)}) {at(first_ic.at)}"
            if first_ic
            else f"declared → first commander ({code('/assign commander NAME')})",
        ),
        (
            "Time to mitigate",
            value(m.time_to_mitigate, "not mitigated yet"),
            f"declared → monitoring {at(s.mitigated_at)}" if s.mitigated_at else "declared → phase monitoring",
        ),
        (
            "Time to resolve",
            value(m.time_to_resolve, "not resolved yet"),
            f"declared → resolved {at(s.resolved_at)}" if s.resolved_at else "declared → phase resolved",
        ),
    ]
    out = ["", "## Metrics", ""]
    out += table(("Metric", "Value", "Measured"), rows)
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
    visited = list(dict.fromkeys(p for p, _at, _seq in s.phase_history))
    lines = []
    for phase in visited:
        items = runbooks.get(phase, ())
        if not items:
            continue
        left = [f"{i}. {inline(it.text)}" for i, it in enumerate(items, 1) if not s.is_checked(phase, it.id)]
        done = len(items) - len(left)
        lines.append(f"- **{phase}:** {done} of {len(items)} done" + (f"; open: {'; '.join(left)}" if left else ""))
    if lines:
        out += ["", "### Checklists of the phases passed through", "", *lines]
    return out
