"""Handoff snapshots and postmortems inside the app: rendered from the fold, written to files.

`incident_tui.docs` is imported only when a document is asked for (start-up stays lean),
and its absence is a notice, not a crash.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from types import ModuleType

from ..domain.checklists import Runbooks
from ..domain.events import Event
from ..domain.fold import IncidentState
from ..domain.text import safe_text
from ..store.files import replace_file

KINDS = ("snapshot", "postmortem")


class DocumentsUnavailable(RuntimeError):
    """The documents module is missing from this build."""


def _docs() -> ModuleType:
    try:
        from .. import docs
    except ImportError:
        raise DocumentsUnavailable("documents are not available in this build (incident_tui.docs)") from None
    return docs


def render(state: IncidentState, runbooks: Runbooks, now: datetime, kind: str, handoff: Event | None = None) -> str:
    """Markdown of `kind` for `state`; call on the app's thread (the fold changes under a worker).

    `handoff` is a `snapshot` event: the snapshot is then the state that was handed over."""
    docs = _docs()
    # state.timeline holds this incident's events only, so its number is passed, not derived.
    if handoff is not None:
        return docs.handoff_document(state.timeline, handoff, runbooks, number=state.number)
    if kind == "snapshot":
        return docs.snapshot_document(state.timeline, state.id, runbooks, now, "md", number=state.number)
    return docs.postmortem_document(state, runbooks, now)


def title(ref: str, kind: str, handoff: Event | None = None) -> str:
    if kind != "snapshot":
        return f"{ref} postmortem draft"
    if handoff is None:
        return f"{ref} handoff snapshot"
    who = f"{handoff.data.get('from') or 'nobody'} → {handoff.data.get('to')}"
    return f"{ref} handoff snapshot at seq {handoff.data.get('at_seq')}: command {safe_text(who, 80, oneline=True)}"


def write(ref: str, texts: dict[str, str], folders: list[Path]) -> list[Path]:
    """Write `<ref>-<kind>.md` into the first folder that takes them all; [] if none does."""
    for folder in folders:
        written: list[Path] = []
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for kind, text in texts.items():
                path = folder / f"{ref}-{kind}.md"
                # Renamed into place, never written through a symlink someone put at the name;
                # as private as the store the document comes from.
                replace_file(path, text.encode("utf-8"), mode=0o640, durable=False)
                written.append(path)
            return written
        except OSError:
            continue
    return []
