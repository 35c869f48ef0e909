"""`/sev 1` ... `/sev 5`: change severity."""

from __future__ import annotations

from datetime import datetime

from ..events import Event
from ..model import normalize_severity
from ..state import IncidentState
from ._base import Arg, CommandError, Invocation, command, folds


@command("sev", "/sev 1..5", "change severity", args=(Arg.SEVERITY,), writes=("severity.set",), rank=80)
def _sev(inv: Invocation) -> list[Event]:
    sev = normalize_severity(inv.args)
    if sev is None:
        raise CommandError(f"unknown severity {inv.args!r}; use /sev 1 (critical) to /sev 5 (cosmetic)")
    if sev == inv.state.severity:
        raise CommandError(f"{inv.state.ref} is already {sev}")
    return [inv.event("severity.set", {"severity": sev})]


@folds("severity.set")
def _fold_severity(state: IncidentState, e: Event, at: datetime) -> None:
    state.severity = e.data["severity"]
    state.severity_history.append((state.severity, at, e.seq or 0))
