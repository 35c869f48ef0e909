"""The stable JSON forms of folded state (`list --json`, `show --json`, the HTTP API).

Keys are only ever added, never renamed or removed (README: "JSON output").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .checklists import Runbooks, item_status
from .events import format_at
from .fold import FollowUp, Hypothesis, IncidentState


def wire_time(dt: datetime | None) -> str | None:
    """A time as the event log writes it (UTC, milliseconds, Z), or None: the one formatter."""
    return format_at(dt) if dt else None


_t = wire_time


def age_text(seconds: float) -> str:
    s = int(max(seconds, 0))
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d{(s % 86400) // 3600}h"


def followup_json(f: FollowUp) -> dict[str, Any]:
    """One follow-up as `show --json` and the API give it (the snapshot leaves out `done`:
    it lists the open ones only)."""
    return {
        "ref": f"F{f.number}",
        "text": f.text,
        "owner": f.owner,
        "due": f.due,
        "done": f.done,
        "author": f.author,
        "at": _t(f.at),
        "link": f.link,
    }


def hypothesis_json(h: Hypothesis) -> dict[str, Any]:
    """One hypothesis as `show --json`, the API and the snapshot JSON give it."""
    return {
        "ref": f"H{h.number}",
        "text": h.text,
        "status": h.status,
        "note": h.note,
        "author": h.author,
        "at": _t(h.at),
        "settled_by": h.settled_by or None,
        "settled_at": _t(h.settled_at),
    }


def incident_summary(state: IncidentState, now: datetime) -> dict[str, Any]:
    return {
        "ref": state.ref,
        "number": state.number,
        "id": state.id,
        "title": state.title,
        "severity": state.severity,
        "phase": state.phase,
        "commander": state.commander,
        "declared_at": _t(state.declared_at),
        "age_seconds": int((now - state.declared_at).total_seconds()),
        "active": state.active,
        "last_seq": state.last_seq,
    }


def checklist_view(state: IncidentState, runbooks: Runbooks, phase: str | None = None) -> list[dict[str, Any]]:
    phase = phase or state.phase
    out = []
    for i, item in enumerate(runbooks.get(phase, ()), 1):
        st = item_status(state, phase, item)
        mark = st.mark
        out.append(
            {
                "n": i,
                "id": item.id,
                "text": item.text,
                "done": st.done,
                # True: done because the state satisfies the item's `when` condition.
                "automatic": st.auto,
                "when": item.when,
                "by": mark.by if mark else None,
                "at": _t(mark.at) if mark else None,
            }
        )
    return out


def incident_state(state: IncidentState, runbooks: Runbooks, now: datetime) -> dict[str, Any]:
    d = incident_summary(state, now)
    d.update(
        {
            "summary": state.summary,
            "impact": state.impact,
            "category": state.category,
            "declared_by": state.declared_by,
            "phase_entered": {p: _t(t) for p, t in state.phase_entered.items()},
            "roles": {r: list(h) for r, h in state.roles.items() if h},
            "checklist": checklist_view(state, runbooks),
            "hypotheses": [hypothesis_json(h) for h in state.hypotheses],
            "followups": [followup_json(f) for f in state.followups],
            "rootcause": state.rootcause,
            "whys": list(state.whys),
            "impact_started_at": _t(state.impact_started_at),
            "mitigated_at": _t(state.mitigated_at),
            "resolved_at": _t(state.resolved_at),
            "last_update_at": _t(state.last_update_at),
            "next_update_due": _t(state.next_update_due()),
            "events": len(state.timeline),
            # Added by the second pass (SPEC 9): keys are only ever added, at the end.
            "why_chains": {chain: list(whys) for chain, whys in state.why_chains.items()},
            "mitigations": [e.text for e in state.mitigations],
            "dataloss": [e.text for e in state.dataloss],
            "background": [e.text for e in state.background],
            "lessons": {k: [e.text for e in v] for k, v in state.lessons.items()},
        }
    )
    return d
