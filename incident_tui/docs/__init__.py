"""Documents an incident leaves behind: the handoff snapshot and the postmortem (SPEC 7).

Depends on the domain only, so the CLI, the HTTP server and the app render the very
same text from the same events.
"""

from __future__ import annotations

from .metrics import Metrics, incident_metrics
from .postmortem import postmortem_data, postmortem_document, postmortem_json, write_postmortem
from .snapshot import (
    SCHEMA,
    SCHEMA_VERSION,
    IncidentNotFound,
    as_of,
    fold_incident,
    handoff_data,
    handoff_document,
    incident_snapshot,
    render_snapshot,
    snapshot_data,
    snapshot_document,
    snapshot_markdown,
    state_snapshot_data,
)

__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "IncidentNotFound",
    "Metrics",
    "as_of",
    "fold_incident",
    "handoff_data",
    "handoff_document",
    "incident_metrics",
    "incident_snapshot",
    "postmortem_data",
    "postmortem_document",
    "postmortem_json",
    "render_snapshot",
    "snapshot_data",
    "snapshot_document",
    "snapshot_markdown",
    "state_snapshot_data",
    "write_postmortem",
]
