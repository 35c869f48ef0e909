"""Small helpers shared by the app tests: seeding stores and reading what is on screen."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from incident_tui.demo import write_demo
from incident_tui.domain.checklists import Runbooks
from incident_tui.domain.commands import declare_event, to_events
from incident_tui.domain.events import format_at
from incident_tui.domain.fold import Registry
from incident_tui.store.base import Store
from incident_tui.ui.screens.dashboard import DashboardScreen
from incident_tui.ui.widgets.timeline import Timeline

from .conftest import FIXED_NOW


def declare(store: Store, title: str, severity: str = "SEV2", author: str = "alice", minutes_ago: float = 30) -> str:
    event = declare_event(title, author, severity, at=FIXED_NOW - timedelta(minutes=minutes_ago))
    store.append([event])
    return event.incident


def log(store: Store, runbooks: Runbooks, incident: str, line: str, author: str = "bob") -> None:
    """Apply a line as another user would, stamped at the tests' fixed now (stable snapshots)."""
    reg = Registry()
    reg.extend(store.read())
    events = to_events(line, reg.incidents[incident], author, runbooks)
    store.append([replace(e, at=format_at(FIXED_NOW)) for e in events])


def demo(store: Store, runbooks: Runbooks, until: str | None = "triage") -> str:
    return write_demo(store, runbooks, now=FIXED_NOW, until=until)


def timeline_lines(screen: DashboardScreen) -> list[str]:
    """The text of every row the timeline would draw (visible or not)."""
    tl = screen.query_one(Timeline)
    out = []
    for row in range(tl.row_count):
        found = tl._event_at(row)
        assert found is not None
        event, pending = found
        out.append(tl._line(event, pending, tl._backdated(row)).plain)
    return out
