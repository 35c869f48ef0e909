"""Alerts (SPEC 11): `alert` events come from the server's alert intake, not from a command."""

from __future__ import annotations

from datetime import datetime

from ..events import Event
from ..state import IncidentState
from ._base import folds


@folds("alert")
def _fold_alert(state: IncidentState, e: Event, at: datetime) -> None:
    # Recorded, never acted on: a resolved alert does not resolve the incident (SPEC 11).
    state.alert_groups.add(e.data["group"])
    state.alert_status[e.data["fingerprint"]] = e.data["status"]
