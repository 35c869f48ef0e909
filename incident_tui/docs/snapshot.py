"""The handoff snapshot: what the next commander needs, as JSON data and as Markdown.

`snapshot_data` is the one builder; the Markdown is rendered from its dict, so both
formats always carry the same facts. A snapshot "as of" a seq is a pure function of
the events up to that seq: it never reads the clock (see `as_of`), which is what makes
a snapshot at an earlier seq equal the snapshot of a store truncated there.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from operator import attrgetter
from typing import Any, Literal

import orjson

from ..domain.checklists import Runbooks, item_status
from ..domain.events import Event, format_at, parse_at
from ..domain.fold import IncidentState, Registry
from ..domain.model import MULTI_ROLES, ROLES, SEVERITY_MEANING, UPDATE_CADENCE_MIN
from ..domain.serialize import followup_json, hypothesis_json
from ..domain.serialize import wire_time as _t
from ..domain.text import escape_json_text
from . import clock
from .markdown import code, inline, link, missing

SCHEMA = "incident-tui/snapshot"
SCHEMA_VERSION = 1
LAST_N = 5  # decisions and actions shown: enough to pick up the thread, short enough to read
# The Markdown is read by a person taking over: long lists are cut (the JSON keeps them all).
MD_OPEN_HYPOTHESES = 10
MD_SETTLED_HYPOTHESES = 5
MD_FOLLOWUPS = 15

Format = Literal["md", "json"]
_KIND = attrgetter("kind")


class IncidentNotFound(LookupError):
    """No `incident.declared` for that incident among the events (up to `at_seq`)."""


def fold_incident(
    events: Iterable[Event], incident_id: str, at_seq: int | None = None, number: int | None = None
) -> IncidentState:
    """Fold one incident from a store's events, cut at `at_seq` (inclusive).

    Only the incident's own events are folded, but its number is counted over every
    declaration before it, so it is the same `INC-N` every client derives. A caller
    that hands over only the incident's own events (`state.timeline`) must pass the
    `number` it knows, or every incident would read as INC-1.
    """
    mine: list[Event] = []
    declared: dict[str, None] = {}
    counted = 0
    for e in events:
        if at_seq is not None and (e.seq is None or e.seq > at_seq):
            continue  # cut again: callers may hand over more than they were asked for
        if e.kind == "incident.declared" and e.incident not in declared:
            declared[e.incident] = None
            if e.incident == incident_id:
                counted = len(declared)
        if e.incident == incident_id:
            mine.append(e)
    if not counted:
        where = f" at or before seq {at_seq}" if at_seq is not None else ""
        raise IncidentNotFound(f"incident {incident_id} is not declared{where}")
    reg = Registry()
    reg.extend(mine)
    state = reg.incidents[incident_id]
    state.number = number if number is not None else counted
    return state


def as_of(state: IncidentState) -> datetime:
    """The moment an as-of snapshot describes: the latest `at` among the incident's
    events it includes (max, not last: a back-dated entry does not turn the clock back)."""
    return max((parse_at(e.at) for e in state.timeline), default=state.declared_at)


def _entry(e: Event) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "at": format_at(parse_at(e.at)),  # any ISO form a writer used, in the one wire form
        "author": e.author,
        "text": e.text,
        "tags": list(e.data.get("tags") or []),
    }


def _last_of_kinds(state: IncidentState, kinds: tuple[str, ...], n: int) -> dict[str, tuple[list[Event], int]]:
    """For each kind, the last n by seq (as recorded, even if back-dated), oldest first,
    and how many there are. Counted and found in C (a kind list, searched from the end):
    a long incident's timeline has a million rows and only the last few of each are read."""
    tl = state.timeline
    recorded = list(map(_KIND, tl))
    recorded.reverse()
    totals = Counter(recorded)
    out: dict[str, tuple[list[Event], int]] = {}
    for kind in kinds:
        found: list[Event] = []
        at = -1
        for _ in range(min(n, totals[kind])):
            at = recorded.index(kind, at + 1)
            found.append(tl[len(tl) - 1 - at])
        out[kind] = (found[::-1], totals[kind])
    return out


def _held_at(history: list[tuple[str, datetime, int]], seq: int) -> str | None:
    held = None
    for value, _at, at_seq in history:
        if at_seq > seq:
            break
        held = value
    return held


# What a returning or new commander wants listed from the stretch since the last handoff.
_SINCE_KINDS = ("decision", "action", "mitigation", "obs", "note", "dataloss", "update", "hypothesis")
SINCE_LISTED = 10


def _since_previous_handoff(state: IncidentState) -> dict[str, Any] | None:
    """What changed since the last handoff recorded in `state` (None: this is the first)."""
    if not state.snapshots:
        return None
    prev = state.snapshots[-1]
    base = int(prev.data["at_seq"])
    roles_then: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    listed: list[Event] = []
    for e in state.timeline:
        seq = e.seq or 0
        if seq <= base:
            if e.kind == "role.assigned":
                holders = roles_then.setdefault(e.data["role"], [])
                if e.data["role"] not in MULTI_ROLES:
                    holders[:] = [e.data["user"]]
                elif e.data["user"] not in holders:
                    holders.append(e.data["user"])
            elif e.kind == "role.released":
                user = e.data.get("user")
                roles_then[e.data["role"]] = [h for h in roles_then.get(e.data["role"], []) if user and h != user]
            continue
        counts[e.kind] = counts.get(e.kind, 0) + 1
        if e.kind in _SINCE_KINDS:
            listed.append(e)
    roles_now = {r: list(h) for r, h in state.roles.items() if h}
    role_changes = {
        r: {"then": roles_then.get(r, []), "now": roles_now.get(r, [])}
        for r in dict.fromkeys([*roles_then, *roles_now])
        if roles_then.get(r, []) != roles_now.get(r, [])
    }
    return {
        "seq": base,
        "handoff_seq": prev.seq,
        "at": format_at(prev.when),
        "from": prev.data.get("from") or None,
        "to": prev.data.get("to") or None,
        "severity": {"then": _held_at(state.severity_history, base), "now": state.severity},
        "phase": {"then": _held_at(state.phase_history, base), "now": state.phase},
        "roles": role_changes,
        "counts": counts,
        "entries": [{**_entry(e), "kind": e.kind} for e in listed[-SINCE_LISTED:]],
        "entries_total": len(listed),
    }


def state_snapshot_data(state: IncidentState, runbooks: Runbooks, now: datetime) -> dict[str, Any]:
    """The snapshot of an already folded state as it stands at `now` (the app's live fold)."""
    roles: dict[str, list[str]] = {r: list(state.holders(r)) for r in ROLES}
    roles.update({r: list(h) for r, h in state.roles.items() if r not in roles and h})
    last = _last_of_kinds(state, ("decision", "action", "mitigation", "obs", "note", "update"), LAST_N)
    decisions, n_decisions = last["decision"]
    actions, n_actions = last["action"]
    mitigations, n_mitigations = last["mitigation"]
    observations, n_observations = last["obs"]
    notes, n_notes = last["note"]
    return {
        "schema": SCHEMA,
        "version": SCHEMA_VERSION,
        "ref": state.ref,
        "number": state.number,
        "id": state.id,
        "seq": state.last_seq,
        "as_of": _t(now),
        "title": state.title,
        "severity": state.severity,
        "phase": state.phase,
        "phase_entered_at": _t(state.phase_entered.get(state.phase)),
        "category": state.category,
        "declared_at": _t(state.declared_at),
        "declared_by": state.declared_by,
        "resolved_at": _t(state.resolved_at),
        "elapsed_seconds": int(state.elapsed(now).total_seconds()),
        "roles": roles,
        "summary": state.summary,
        "impact": state.impact,
        "hypotheses": [hypothesis_json(h) for h in state.hypotheses],
        "decisions": [_entry(e) for e in decisions],
        "decisions_total": n_decisions,
        "actions": [_entry(e) for e in actions],
        "actions_total": n_actions,
        "checklist": _checklist_data(state, runbooks),
        "followups_open": _open_followups_data(state),
        "followups_done": sum(1 for f in state.followups if f.done),
        "next_update": _next_update_data(state, now, last["update"][0][-1:]),
        "rootcause": state.rootcause,
        "events": len(state.timeline),
        "handoff": None,
        # Added by the second pass (SPEC 9): keys are only ever added, at the end.
        "mitigations": [_entry(e) for e in mitigations],
        "mitigations_total": n_mitigations,
        "observations": [_entry(e) for e in observations],
        "observations_total": n_observations,
        "notes": [_entry(e) for e in notes],
        "notes_total": n_notes,
        "dataloss": [_entry(e) for e in state.dataloss],
        "since_previous_handoff": _since_previous_handoff(state),
    }


def _checklist_data(state: IncidentState, runbooks: Runbooks) -> dict[str, Any]:
    """The current phase's checklist: the open items, and the done ones with how."""
    items = runbooks.get(state.phase, ())
    statuses = [(i, item, item_status(state, state.phase, item)) for i, item in enumerate(items, 1)]
    open_items = [{"n": i, "id": item.id, "text": item.text} for i, item, st in statuses if not st.done]
    # Done items say how: ticked by someone, or automatic (the state meets the item's `when`).
    done_items = [
        {"n": i, "id": item.id, "text": item.text, "automatic": st.auto, "by": st.mark.by if st.mark else None}
        for i, item, st in statuses
        if st.done
    ]
    return {
        "phase": state.phase,
        "total": len(items),
        "done": len(items) - len(open_items),
        "open": open_items,
        "done_items": done_items,
    }


def _open_followups_data(state: IncidentState) -> list[dict[str, Any]]:
    return [{k: v for k, v in followup_json(f).items() if k != "done"} for f in state.followups if not f.done]


def _next_update_data(state: IncidentState, now: datetime, last_update: list[Event]) -> dict[str, Any]:
    """When the next stakeholder update is owed (or why none is), and the last one given."""
    due = state.next_update_due()
    if due is not None:
        reason = "overdue" if due < now else "due"
    elif not state.active:
        reason = f"none in phase {state.phase}"
    else:
        reason = f"none at {state.severity}"
    return {
        "due_at": _t(due),
        "status": reason.split(" ")[0],  # due | overdue | none
        "reason": reason,
        "cadence_minutes": UPDATE_CADENCE_MIN.get(state.severity),
        "last_update": _entry(last_update[0]) if last_update else None,
    }


def snapshot_data(
    events: Sequence[Event],
    incident_id: str,
    runbooks: Runbooks,
    now: datetime,
    at_seq: int | None = None,
    *,
    number: int | None = None,
) -> dict[str, Any]:
    """The stable JSON form (README: "Snapshot JSON"). With `at_seq` the snapshot is of
    the incident as it stood at that seq, timed at `as_of` and independent of `now`.
    `number`: see `fold_incident` (needed when `events` are one incident's only)."""
    state = fold_incident(events, incident_id, at_seq, number)
    return state_snapshot_data(state, runbooks, now if at_seq is None else as_of(state))


def handoff_data(
    events: Sequence[Event], snapshot: Event, runbooks: Runbooks, *, number: int | None = None
) -> dict[str, Any]:
    """The snapshot a `/handoff` recorded: the incident as of the event's `at_seq`, timed
    at the handoff itself (so "overdue" and "elapsed" are what the new commander faced),
    with who handed command to whom. Reproducible: everything comes from the events."""
    if snapshot.kind != "snapshot":
        raise ValueError(f"expected a snapshot event, got {snapshot.kind}")
    state = fold_incident(events, snapshot.incident, int(snapshot.data["at_seq"]), number)
    d = state_snapshot_data(state, runbooks, max(snapshot.when, as_of(state)))
    d["handoff"] = {
        "from": snapshot.data.get("from") or None,
        "to": snapshot.data.get("to") or None,
        "at": format_at(snapshot.when),
        "by": snapshot.author,
        "seq": snapshot.seq,
    }
    return d


def handoff_document(
    events: Sequence[Event], snapshot: Event, runbooks: Runbooks, fmt: Format = "md", *, number: int | None = None
) -> str:
    """`handoff_data` rendered as Markdown or JSON: what `/handoff USER` shows to both people."""
    return render_snapshot(handoff_data(events, snapshot, runbooks, number=number), fmt)


# -- Markdown ---------------------------------------------------------------------------


def _ts(text: str | None) -> datetime | None:
    return parse_at(text) if text else None


def _who(names: list[str]) -> str:
    return ", ".join(inline(n, 100) for n in names) if names else missing("unassigned")


def _line(e: dict[str, Any], day: datetime) -> str:
    at = _ts(e["at"])
    assert at is not None
    return f"- {clock.clock(at, day)} · {inline(e['author'], 100)}: {inline(e['text'])}"


def _handoff_lines(d: dict[str, Any], now: datetime) -> list[str]:
    h = d["handoff"]
    if not h:
        return []
    frm = inline(h["from"], 100) if h["from"] else missing("nobody")
    to = inline(h["to"], 100) if h["to"] else missing("nobody")
    at = _ts(h["at"])
    assert at is not None
    when = clock.clock(at, now)
    return [f"**Command passes from {frm} to {to}** at {when} (handoff recorded at seq {h['seq']}).", ""]


def snapshot_markdown(d: dict[str, Any]) -> str:
    now = _ts(d["as_of"])
    assert now is not None
    more_cmd = code(f"incident-tui show {d['ref']}")
    out: list[str] = [
        f"# Handoff snapshot: {d['ref']} · {inline(d['title'], 300)}",
        "",
        f"_As of {clock.stamp(now)}, seq {d['seq']}. Times are {clock.zone(now)}._",
        "",
        *_handoff_lines(d, now),
    ]
    out += _status_lines(d, now)
    out += ["", "## Roles", ""]
    for role, holders in d["roles"].items():
        out.append(f"- **{inline(role, 40)}:** {_who(holders)}")
    out += ["", "## Summary and impact", ""]
    out.append(f"- **Summary:** {inline(d['summary']) or missing('none yet — set one with `/summary TEXT`')}")
    out.append(f"- **Impact:** {inline(d['impact']) or missing('not described yet — `/impact TEXT`')}")
    if d["rootcause"]:
        out.append(f"- **Root cause:** {inline(d['rootcause'])}")
    if d["dataloss"]:
        out.append("- **Data lost:** " + "; ".join(inline(e["text"]) for e in d["dataloss"]))
    out += _since_lines(d, now)
    out += _hypothesis_lines(d["hypotheses"], more_cmd)
    out += _last_entries_lines(d, now)
    out += _checklist_lines(d["checklist"])
    out += _followup_lines(d, more_cmd)
    again = code(f"incident-tui snapshot {d['ref']} --at-seq {d['seq']}")
    out += ["", "---", "", f"_{d['ref']} as of seq {d['seq']}; {again} shows this snapshot again._", ""]
    return "\n".join(out)


def _status_lines(d: dict[str, Any], now: datetime) -> list[str]:
    """Severity, phase, start, category and the stakeholder-update clock, one line each."""
    declared = _ts(d["declared_at"])
    assert declared is not None
    sev = d["severity"]
    out = [f"- **Severity:** {sev} ({SEVERITY_MEANING.get(sev, 'custom')})"]
    phase_line = f"- **Phase:** {d['phase']}"
    entered = _ts(d["phase_entered_at"])
    if entered:
        phase_line += f" since {clock.clock(entered, now)} ({clock.duration(now - entered)})"
    out.append(phase_line)
    started = f"- **Started:** {clock.stamp(declared)} by {inline(d['declared_by'], 100)}"
    resolved = _ts(d["resolved_at"])
    if resolved:
        started += f"; resolved {clock.clock(resolved, declared)}, after {clock.duration(d['elapsed_seconds'])}"
    else:
        started += f"; elapsed {clock.duration(d['elapsed_seconds'])}"
    out.append(started)
    if d["category"]:
        out.append(f"- **Category:** {inline(d['category'], 100)}")
    next_update = d["next_update"]
    due = _ts(next_update["due_at"])
    if due is None:
        out.append(f"- **Next status update:** {next_update['reason']}")
    elif next_update["status"] == "overdue":
        late = clock.duration(now - due)
        out.append(f"- **Next status update:** **OVERDUE** by {late} (was due {clock.clock(due, now)})")
    else:
        out.append(f"- **Next status update:** due {clock.clock(due, now)} (in {clock.duration(due - now)})")
    last = next_update["last_update"]
    if last:
        at = _ts(last["at"])
        assert at is not None
        out.append(f"- **Last update** ({clock.clock(at, now)}, {inline(last['author'], 100)}): {inline(last['text'])}")
    return out


def _hypothesis_lines(hyps: list[dict[str, Any]], more_cmd: str) -> list[str]:
    """The newest open hypotheses, then the most recently settled."""
    out = ["", "## Hypotheses", ""]
    open_h = [h for h in hyps if h["status"] == "open"]
    # Most recently settled last; ISO UTC strings of one format sort as times.
    settled = sorted((h for h in hyps if h["status"] != "open"), key=lambda h: h["settled_at"] or "")
    if not open_h:
        out.append(missing("No open hypotheses" + (" — state one with `/hypothesis TEXT`." if not hyps else ".")))
    for h in open_h[-MD_OPEN_HYPOTHESES:]:
        out.append(f"- **{h['ref']}** (open, {inline(h['author'], 100)}): {inline(h['text'])}")
    if len(open_h) > MD_OPEN_HYPOTHESES:
        out.append(f"- _and {len(open_h) - MD_OPEN_HYPOTHESES} older open ones ({more_cmd})_")
    for h in settled[-MD_SETTLED_HYPOTHESES:]:
        note = f" — {inline(h['note'])}" if h["note"] else ""
        out.append(f"- {h['ref']} {h['status']}: {inline(h['text'])}{note}")
    if len(settled) > MD_SETTLED_HYPOTHESES:
        out.append(f"- _and {len(settled) - MD_SETTLED_HYPOTHESES} more settled ({more_cmd})_")
    return out


def _last_entries_lines(d: dict[str, Any], now: datetime) -> list[str]:
    """The last few decisions, actions, mitigations, observations and notes, a section each."""
    out: list[str] = []
    for title, key, hint in (
        ("decisions", "decisions", "/decision"),
        ("actions", "actions", "/action"),
        ("mitigations", "mitigations", "/mitigate"),
        ("observations", "observations", "/obs"),
        ("notes", "notes", "a plain line"),
    ):
        total = d.get(f"{key}_total", 0)
        entries = d.get(key, [])
        more = f" (last {len(entries)} of {total})" if total > len(entries) else ""
        out += ["", f"## Last {title}{more}", ""]
        if not entries:
            how = code(hint + " TEXT") if hint.startswith("/") else hint
            out.append(missing(f"None recorded yet ({how})."))
        out.extend(_line(e, now) for e in entries)
    return out


def _checklist_lines(checklist: dict[str, Any]) -> list[str]:
    out = ["", f"## Checklist: {checklist['phase']} ({checklist['done']} of {checklist['total']} done)", ""]
    if not checklist["total"]:
        out.append(missing(f"Phase {checklist['phase']} has no checklist."))
    elif not checklist["open"]:
        out.append(missing("Every item is done."))
    for item in sorted([*checklist["open"], *checklist.get("done_items", ())], key=lambda i: i["n"]):
        if "automatic" not in item:
            out.append(f"- [ ] {item['n']}. {inline(item['text'])}")
        else:
            how = "automatic" if item["automatic"] else f"ticked by {inline(item['by'] or '?', 100)}"
            out.append(f"- [x] {item['n']}. {inline(item['text'])} ({how})")
    return out


def _followup_lines(d: dict[str, Any], more_cmd: str) -> list[str]:
    out = ["", "## Open follow-ups", ""]
    if not d["followups_open"]:
        out.append(missing("None open."))
    for f in d["followups_open"][:MD_FOLLOWUPS]:
        owner = inline("@" + f["owner"], 100) if f["owner"] else missing("no owner")  # an inert @: no ping
        due_text = f"due {inline(f['due'], 40)}" if f["due"] else missing("no due date")
        url = f.get("link")
        tracker = f", {link(url) or inline(url, 500)}" if url else ""
        out.append(f"- **{f['ref']}** {inline(f['text'])} — {owner}, {due_text}{tracker}")
    if len(d["followups_open"]) > MD_FOLLOWUPS:
        out.append(f"- _and {len(d['followups_open']) - MD_FOLLOWUPS} more open ({more_cmd})_")
    if d["followups_done"]:
        out.append(f"- _and {d['followups_done']} done_")
    return out


_KIND_LABEL = {
    "decision": "decision",
    "action": "action",
    "mitigation": "mitigation",
    "obs": "observation",
    "note": "note",
    "dataloss": "data loss",
    "update": "status update",
    "hypothesis": "hypothesis",
}
_PLURAL = {"data loss": "data-loss entries", "hypothesis": "hypotheses"}


def _count(n: int, label: str) -> str:
    return f"{n} {label if n == 1 else _PLURAL.get(label, label + 's')}"


def _since_lines(d: dict[str, Any], now: datetime) -> list[str]:
    c = d.get("since_previous_handoff")
    if not c:
        return []
    at = _ts(c["at"])
    assert at is not None
    frm = inline(c["from"], 100) if c["from"] else "nobody"
    to = inline(c["to"], 100) if c["to"] else "nobody"
    out = ["", f"## Since the previous handoff ({frm} to {to} at {clock.clock(at, now)}, seq {c['seq']})", ""]
    changed = False
    for key in ("severity", "phase"):
        then, cur = c[key]["then"], c[key]["now"]
        if then != cur:
            out.append(f"- **{key.capitalize()}:** {then} → {cur}")
            changed = True
    for role, v in c["roles"].items():
        out.append(f"- **{inline(role, 40)}:** {_who(v['then'])} → {_who(v['now'])}")
        changed = True
    total = sum(c["counts"].values())
    if not total:
        out.append(missing("Nothing new since then."))
        return out
    if not changed:
        out.append("- Severity, phase and roles unchanged.")
    counts = ", ".join(_count(n, _KIND_LABEL[k]) for k, n in c["counts"].items() if k in _KIND_LABEL)
    out.append(f"- {total} new events" + (f": {counts}" if counts else "") + ".")
    shown = len(c["entries"])
    if shown:
        more = f" (last {shown} of {c['entries_total']})" if c["entries_total"] > shown else ""
        out.append(f"- Entries since then{more}:")
        for e in c["entries"]:
            when = _ts(e["at"])
            assert when is not None
            label = _KIND_LABEL.get(e["kind"], e["kind"])
            out.append(f"  - {clock.clock(when, now)} · {inline(e['author'], 100)} ({label}): {inline(e['text'])}")
    return out


def json_text(data: Any) -> str:
    """The documents' JSON: indented by two, user text as typed except terminal controls,
    which become `\\uXXXX` escapes (the same JSON value). orjson writes what
    json.dumps(indent=2) writes here, ~10x faster on big documents (json's C encoder is
    not used when indenting); an integer beyond 64 bits in some event's data takes the
    general path."""
    try:
        text = orjson.dumps(data, option=orjson.OPT_INDENT_2).decode()
    except TypeError:
        text = json.dumps(data, ensure_ascii=False, indent=2)
    return escape_json_text(text) + "\n"  # `snapshot --format json` goes to terminals


def render_snapshot(data: dict[str, Any], fmt: Format) -> str:
    if fmt == "json":
        return json_text(data)
    if fmt == "md":
        return snapshot_markdown(data)
    raise ValueError(f"unknown snapshot format {fmt!r}; use md or json")


def incident_snapshot(
    state: IncidentState, runbooks: Runbooks, now: datetime, fmt: Format = "md", at_seq: int | None = None
) -> str:
    """`snapshot_document` of an incident a store has already folded (`state`, from its
    registry), reading only that incident's rows, once: on a big shared store, not every
    event of every incident. The same document: the rows of `state` are the events of the
    incident the log holds (events still waiting to be sent are left out, as a read of the
    store leaves them out), folded again where the snapshot is as of an earlier seq."""
    rows = list(state.timeline)  # from a JSON store's index: read in bulk, in one pass
    if None in map(attrgetter("seq"), rows):
        rows = [e for e in rows if e.seq is not None]
    elif at_seq is None:
        loaded = state.copy()
        loaded.timeline = rows
        return render_snapshot(state_snapshot_data(loaded, runbooks, now), fmt)
    return snapshot_document(rows, state.id, runbooks, now, fmt, at_seq, number=state.number)


def snapshot_document(
    events: Sequence[Event],
    incident_id: str,
    runbooks: Runbooks,
    now: datetime,
    fmt: Format = "md",
    at_seq: int | None = None,
    *,
    number: int | None = None,
) -> str:
    """The handoff snapshot of `incident_id` in `fmt` ("md" or "json"), now or as of `at_seq`."""
    return render_snapshot(snapshot_data(events, incident_id, runbooks, now, at_seq, number=number), fmt)
