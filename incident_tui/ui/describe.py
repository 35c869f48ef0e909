"""How each event kind reads on one timeline line: the UI's one table keyed by kind.

Each row gives a short marker, the component classes of the marker and the body
(`timeline--<class>`, styled by the theme), and the one-line body. Plain strings only;
the widgets pass them through `safe_text` and into `Text`, never markup. A kind the
table does not know (a newer writer's) still shows, with a generic row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..domain.events import Event

Data = dict[str, Any]


@dataclass(frozen=True, slots=True)
class KindView:
    marker: str
    marker_class: str = "marker"  # timeline--marker: muted
    body_class: str | None = None  # None: the body in the timeline's own colour
    body: Callable[[Data], str] | None = None  # None: the event's text


def _declared(d: Data) -> str:
    return f"declared {d.get('severity', '')}: {d.get('title', '')}"


def _field(name: str) -> Callable[[Data], str]:
    return lambda d: f"{name}: {d.get('value', '')}"


def _released(d: Data) -> str:
    return f"{d.get('user') or 'everyone'} released from {d.get('role', '')}"


def _checklist(d: Data) -> str:
    what = "ticked" if d.get("done") else "unticked"
    n = d.get("index")
    label = d.get("text") or d.get("item", "")
    return f"{what} {n}. {label}" if n else f"{what} {label}"


def _settled(verb: str) -> Callable[[Data], str]:
    def body(d: Data) -> str:
        note = f": {d['text']}" if d.get("text") else ""
        return f"H{d.get('number', '?')} {verb}{note}"

    return body


def _followup(d: Data) -> str:
    extra = ""
    if d.get("owner"):
        extra += f" @{d['owner']}"
    if d.get("due"):
        extra += f" due:{d['due']}"
    if d.get("link"):
        extra += f" link:{d['link']}"
    return f"{d.get('text', '')}{extra}"


def _why(d: Data) -> str:
    text = d.get("text", "")
    return f"{d['chain']}: {text}" if d.get("chain") else str(text)


def _alert(d: Data) -> str:
    name = d.get("labels", {}).get("alertname", "") if isinstance(d.get("labels"), dict) else ""
    head = f"{d.get('status', '')} {name}".strip()
    link = f" {d['url']}" if d.get("url") else ""
    return f"{head}: {d.get('summary', '')}{link}"


def _snapshot(d: Data) -> str:
    frm, to = d.get("from") or "", d.get("to") or ""
    if to:
        return f"handoff snapshot at seq {d.get('at_seq')}: {frm or 'nobody'} → {to}"
    return f"snapshot at seq {d.get('at_seq')}"


def _page(d: Data) -> str:
    why = f": {d['text']}" if d.get("text") else ""
    return f"paged {d.get('user', '')}{why}"


# Every kind of the model has a row (tests/core/test_catalogue.py checks it).
KIND_VIEWS: dict[str, KindView] = {
    "note": KindView(""),
    "obs": KindView("OBS"),
    "decision": KindView("DEC", "decision", "decision"),
    "action": KindView("ACT", "action", "action"),
    "hypothesis": KindView("HYP"),
    "hypothesis.confirmed": KindView("HYP✓", "state", "state", _settled("confirmed")),
    "hypothesis.rejected": KindView("HYP✗", "alert", "state", _settled("rejected")),
    "update": KindView("UPD"),
    "detected": KindView("DET", "alert"),
    "rootcause": KindView("RC"),
    "why": KindView("WHY", body=_why),
    "followup": KindView("FUP", body=_followup),
    "followup.done": KindView("FUP✓", "state", "state", lambda d: f"F{d.get('number', '?')} done"),
    "incident.declared": KindView("NEW", "state", "state", _declared),
    "severity.set": KindView("SEV", "alert", "state", lambda d: f"severity → {d.get('severity', '')}"),
    "phase.set": KindView("PHASE", "state", "state", lambda d: f"phase → {d.get('phase', '')}"),
    "title.set": KindView("SET", "state", "state", _field("title")),
    "summary.set": KindView("SET", "state", "state", _field("summary")),
    "impact.set": KindView("SET", "state", "state", _field("impact")),
    "category.set": KindView("SET", "state", "state", _field("category")),
    "role.assigned": KindView("ROLE", "state", "state", lambda d: f"{d.get('user', '')} is {d.get('role', '')}"),
    "role.released": KindView("ROLE", "state", "state", _released),
    "checklist.set": KindView("CHK", "state", "state", _checklist),
    "snapshot": KindView("SNAP", "state", "state", _snapshot),
    "alert": KindView("ALERT", body=_alert),
    "mitigation": KindView("MIT"),
    "dataloss": KindView("LOSS"),
    "background": KindView("BG"),
    "lesson": KindView("LESN", body=lambda d: f"{d.get('lesson', '')}: {d.get('text', '')}"),
    "page": KindView("PAGE", "state", "state", _page),
    "followup.link": KindView("LINK", "state", "state", lambda d: f"F{d.get('number', '?')} → {d.get('url', '')}"),
}


def view(kind: str) -> KindView:
    found = KIND_VIEWS.get(kind)
    if found is None:  # a kind from a newer writer: shown plainly, state-like if it is dotted
        cls = "state" if "." in kind else None
        return KindView(kind[:5].upper(), cls or "marker", cls)
    return found


def marker(event: Event) -> str:
    return view(event.kind).marker


def body(event: Event) -> str:
    """The one-line text of an event (unsanitized: callers pass it through safe_text)."""
    fn = view(event.kind).body
    return event.text if fn is None else fn(event.data)


def tags(event: Event) -> list[str]:
    raw = event.data.get("tags")
    return [str(t) for t in raw] if isinstance(raw, list) else []
