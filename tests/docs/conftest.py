"""Fixtures for the document tests: a pinned local zone, the demo incident at a fixed
time, and a small script builder for incidents with exactly known times."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from incident_tui.demo import write_demo
from incident_tui.domain.checklists import Runbooks, load_runbooks
from incident_tui.domain.events import Event, format_at
from incident_tui.domain.fold import IncidentState, fold
from incident_tui.domain.schema import check_foldable
from incident_tui.store.memory import MemoryStore

# The demo's clock: it ends here, so every `at` (and every golden file) is fixed.
DEMO_NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
INCIDENT_ID = "0193f1c2-0000-7000-8000-00000000abcd"


def set_tz(monkeypatch: pytest.MonkeyPatch, zone: str) -> None:
    monkeypatch.setenv("TZ", zone)
    time.tzset()


@pytest.fixture(autouse=True)
def berlin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Documents render in the process's zone; pin it (and put it back afterwards)."""
    set_tz(monkeypatch, "Europe/Berlin")
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(scope="session")
def runbooks() -> Runbooks:
    return load_runbooks()


@dataclass
class Demo:
    events: list[Event]
    incident: str

    @property
    def state(self) -> IncidentState:
        return fold(self.events).incidents[self.incident]


@pytest.fixture(scope="session")
def demo(runbooks: Runbooks) -> Demo:
    store = MemoryStore()
    incident = write_demo(store, runbooks, now=DEMO_NOW)
    return Demo(store.read(), incident)


def normalize(text: str, demo: Demo) -> str:
    """The demo's incident uuid is random per run; goldens hold a placeholder."""
    return text.replace(demo.incident, "<incident-id>")


@dataclass
class Script:
    """Events of one incident with exact times: `t0` plus minutes, seq in call order."""

    t0: datetime = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    incident: str = INCIDENT_ID
    events: list[Event] = field(default_factory=list)

    def add(self, minute: float, kind: str, data: dict[str, Any] | None = None, author: str = "alice") -> Event:
        seq = len(self.events) + 1
        e = Event(
            id=f"{self.incident[:-4]}{seq:04d}",
            incident=self.incident,
            at=format_at(self.t0 + timedelta(minutes=minute)),
            author=author,
            kind=kind,
            data=data or {},
            seq=seq,
        )
        # Events a reader may meet in any log, an older writer's included: what a fold
        # folds (the doors of today refuse more, e.g. control characters in a name).
        check_foldable(e)
        self.events.append(e)
        return e

    def declare(self, title: str = "Search is slow", severity: str = "SEV3", **data: Any) -> Event:
        return self.add(0, "incident.declared", {"title": title, "severity": severity, **data})

    def at(self, minute: float) -> datetime:
        return self.t0 + timedelta(minutes=minute)

    @property
    def state(self) -> IncidentState:
        return fold(self.events).incidents[self.incident]


@pytest.fixture
def script() -> Script:
    return Script()
