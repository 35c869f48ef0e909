"""Response metrics of an incident, all derived from its folded state.

Every interval starts at the declaration except time to detect, which ends there:
time to detect = impact start (a back-dated `/detected`) -> declared;
to acknowledge = declared -> first commander assigned; to mitigate = declared ->
first entry to `monitoring`; to resolve = declared -> `resolved`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..domain.fold import IncidentState
from ..domain.model import SEVERITIES


@dataclass(frozen=True, slots=True)
class Metrics:
    declared_at: datetime
    end: datetime  # resolved_at, or `now` while unresolved: where time at severity stops counting
    impact_started_at: datetime | None
    time_to_detect: timedelta | None
    time_to_acknowledge: timedelta | None
    time_to_mitigate: timedelta | None
    time_to_resolve: timedelta | None
    # Severity -> time spent at it, in the order first held; sums to end - declared_at.
    time_at_severity: dict[str, timedelta] = field(default_factory=dict)
    peak_severity: str = ""


def _since(start: datetime, end: datetime | None) -> timedelta | None:
    # A back-dated entry can put an end before its start; clamp instead of showing "-3m".
    return None if end is None else max(end - start, timedelta(0))


def incident_metrics(state: IncidentState, now: datetime) -> Metrics:
    declared = state.declared_at
    end = max(state.resolved_at or now, declared)
    impact = state.impact_started_at
    # Only a /detected dated before the declaration says when impact began; one
    # logged afterwards is how it was noticed, not when it started.
    ttd = declared - impact if impact is not None and impact < declared else None
    spent: dict[str, timedelta] = {}
    history = state.severity_history
    for i, (sev, at, _seq) in enumerate(history):
        # History is in seq order; a back-dated change is clipped into [declared, end].
        start = min(max(at, declared), end)
        stop = history[i + 1][1] if i + 1 < len(history) else end
        stop = min(max(stop, start), end)
        spent[sev] = spent.get(sev, timedelta(0)) + (stop - start)
    held = [sev for sev, _at, _seq in history]
    peak = min(held, key=SEVERITIES.index) if held else state.severity
    return Metrics(
        declared_at=declared,
        end=end,
        impact_started_at=impact if ttd is not None else None,
        time_to_detect=ttd,
        time_to_acknowledge=_since(declared, state.commander_first_at),
        time_to_mitigate=_since(declared, state.mitigated_at),
        time_to_resolve=_since(declared, state.resolved_at),
        time_at_severity=spent,
        peak_severity=peak,
    )
