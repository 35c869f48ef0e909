"""The fixed vocabulary of an incident: phases, severities, roles and event kinds (SPEC 2, 3)."""

from __future__ import annotations

PHASES: tuple[str, ...] = (
    "detected",
    "triage",
    "mitigating",
    "monitoring",
    "resolved",
    "postmortem",
    "closed",
)
ACTIVE_PHASES = frozenset(PHASES[:4])

SEVERITIES: tuple[str, ...] = ("SEV1", "SEV2", "SEV3", "SEV4", "SEV5")
SEVERITY_MEANING = {
    "SEV1": "critical: broad customer-facing outage, data loss or security breach",
    "SEV2": "major: many customers impacted",
    "SEV3": "minor impact, needs attention now",
    "SEV4": "no customer impact, needs action",
    "SEV5": "cosmetic, no customer impact",
}
# Minutes between stakeholder updates; severities not listed have no cadence.
UPDATE_CADENCE_MIN = {"SEV1": 30, "SEV2": 60}

SINGLE_ROLES: tuple[str, ...] = ("commander", "deputy", "scribe", "comms")
MULTI_ROLES: tuple[str, ...] = ("sme",)
ROLES: tuple[str, ...] = SINGLE_ROLES + MULTI_ROLES

CATEGORIES: tuple[str, ...] = ("availability", "performance", "security", "data")

# Kinds whose data carries free text shown as a timeline entry.
TEXT_KINDS: tuple[str, ...] = (
    "note",
    "decision",
    "action",
    "obs",
    "hypothesis",
    "update",
    "detected",
    "rootcause",
    "why",
    "followup",
    "mitigation",
    "dataloss",
    "background",
    "lesson",
)
STATE_KINDS: tuple[str, ...] = (
    "incident.declared",
    "hypothesis.confirmed",
    "hypothesis.rejected",
    "followup.done",
    "severity.set",
    "phase.set",
    "title.set",
    "summary.set",
    "impact.set",
    "category.set",
    "role.assigned",
    "role.released",
    "checklist.set",
    "snapshot",
    "alert",
    "followup.link",
    "page",
)
KINDS = frozenset(TEXT_KINDS + STATE_KINDS)

# Required data fields and their types, checked on every append (store and server).
KIND_FIELDS: dict[str, dict[str, type]] = {
    **{k: {"text": str} for k in TEXT_KINDS},
    "incident.declared": {"title": str, "severity": str},
    "hypothesis.confirmed": {"number": int},
    "hypothesis.rejected": {"number": int},
    "followup.done": {"number": int},
    "severity.set": {"severity": str},
    "phase.set": {"phase": str},
    "title.set": {"value": str},
    "summary.set": {"value": str},
    "impact.set": {"value": str},
    "category.set": {"value": str},
    "role.assigned": {"role": str, "user": str},
    "role.released": {"role": str},
    "checklist.set": {"phase": str, "item": str, "done": bool},
    "snapshot": {"at_seq": int},
    "alert": {"status": str, "fingerprint": str, "labels": dict, "summary": str, "url": str, "group": str},
    "lesson": {"text": str, "lesson": str},
    "followup.link": {"number": int, "url": str},
    "page": {"user": str},
}

# `/lesson well|wrong|lucky TEXT`: the postmortem's "Lessons learned", in this order.
LESSONS: dict[str, str] = {"well": "What went well", "wrong": "What went wrong", "lucky": "Where we got lucky"}
# `/why [CHAIN:] TEXT`: a why without a chain name belongs to this one.
DEFAULT_WHY_CHAIN = "impact"


def normalize_severity(text: str) -> str | None:
    """`1`, `sev1`, `SEV1` -> `SEV1`; anything else -> None."""
    t = text.strip().upper()
    if t.startswith("SEV"):
        t = t[3:]
    if t.isdigit() and f"SEV{int(t)}" in SEVERITIES:
        return f"SEV{int(t)}"
    return None


def match_phase(prefix: str) -> tuple[str | None, list[str]]:
    """Resolve an unambiguous phase prefix; returns (phase, candidates)."""
    p = prefix.strip().lower()
    if p in PHASES:
        return p, [p]
    found = [ph for ph in PHASES if p and ph.startswith(p)]
    return (found[0] if len(found) == 1 else None), found
