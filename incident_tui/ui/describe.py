"""How each event kind reads on one timeline line: a short marker and a plain-text body.

Plain strings only; the widgets pass them through `safe_text` and into `Text`, never markup.
"""

from __future__ import annotations

from ..domain.events import Event

MARKERS: dict[str, str] = {
    "note": "",
    "obs": "OBS",
    "decision": "DEC",
    "action": "ACT",
    "hypothesis": "HYP",
    "hypothesis.confirmed": "HYP✓",
    "hypothesis.rejected": "HYP✗",
    "update": "UPD",
    "detected": "DET",
    "rootcause": "RC",
    "why": "WHY",
    "followup": "FUP",
    "followup.done": "FUP✓",
    "incident.declared": "NEW",
    "severity.set": "SEV",
    "phase.set": "PHASE",
    "title.set": "SET",
    "summary.set": "SET",
    "impact.set": "SET",
    "category.set": "SET",
    "role.assigned": "ROLE",
    "role.released": "ROLE",
    "checklist.set": "CHK",
    "snapshot": "SNAP",
    "alert": "ALERT",
    "mitigation": "MIT",
    "dataloss": "LOSS",
    "background": "BG",
    "lesson": "LESN",
    "followup.link": "LINK",
}
# Kinds a filter word such as `kind:decision` or `dec` can name.
FILTER_KINDS = sorted({k.split(".")[0] for k in MARKERS})


def marker(event: Event) -> str:
    return MARKERS.get(event.kind, event.kind[:5].upper())


def body(event: Event) -> str:
    """The one-line text of an event (unsanitized: callers pass it through safe_text)."""
    d = event.data
    k = event.kind
    if k == "incident.declared":
        return f"declared {d.get('severity', '')}: {d.get('title', '')}"
    if k == "severity.set":
        return f"severity → {d.get('severity', '')}"
    if k == "phase.set":
        return f"phase → {d.get('phase', '')}"
    if k in ("title.set", "summary.set", "impact.set", "category.set"):
        return f"{k.split('.')[0]}: {d.get('value', '')}"
    if k == "role.assigned":
        return f"{d.get('user', '')} is {d.get('role', '')}"
    if k == "role.released":
        who = d.get("user") or "everyone"
        return f"{who} released from {d.get('role', '')}"
    if k == "checklist.set":
        what = "ticked" if d.get("done") else "unticked"
        n = d.get("index")
        label = d.get("text") or d.get("item", "")
        return f"{what} {n}. {label}" if n else f"{what} {label}"
    if k in ("hypothesis.confirmed", "hypothesis.rejected"):
        verb = "confirmed" if k.endswith("confirmed") else "rejected"
        note = f": {d['text']}" if d.get("text") else ""
        return f"H{d.get('number', '?')} {verb}{note}"
    if k == "followup":
        extra = ""
        if d.get("owner"):
            extra += f" @{d['owner']}"
        if d.get("due"):
            extra += f" due:{d['due']}"
        if d.get("link"):
            extra += f" link:{d['link']}"
        return f"{d.get('text', '')}{extra}"
    if k == "followup.done":
        return f"F{d.get('number', '?')} done"
    if k == "followup.link":
        return f"F{d.get('number', '?')} → {d.get('url', '')}"
    if k == "lesson":
        return f"{d.get('lesson', '')}: {d.get('text', '')}"
    if k == "why" and d.get("chain"):
        return f"{d['chain']}: {d.get('text', '')}"
    if k == "snapshot":
        frm, to = d.get("from") or "", d.get("to") or ""
        if to:
            return f"handoff snapshot at seq {d.get('at_seq')}: {frm or 'nobody'} → {to}"
        return f"snapshot at seq {d.get('at_seq')}"
    if k == "alert":
        name = d.get("labels", {}).get("alertname", "") if isinstance(d.get("labels"), dict) else ""
        head = f"{d.get('status', '')} {name}".strip()
        link = f" {d['url']}" if d.get("url") else ""
        return f"{head}: {d.get('summary', '')}{link}"
    return event.text


def tags(event: Event) -> list[str]:
    raw = event.data.get("tags")
    return [str(t) for t in raw] if isinstance(raw, list) else []
