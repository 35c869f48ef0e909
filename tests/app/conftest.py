"""App tests: a fresh JSON store per test, a fixed clock and time zone, no cursor blink."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from incident_tui.domain.checklists import Runbooks, load_runbooks
from incident_tui.store.jsonfile import JsonStore
from incident_tui.ui.app import WarRoomApp
from incident_tui.ui.drafts import DraftBox

# Clocks on screen are pinned so snapshots are stable: local time is UTC, "now" is fixed.
FIXED_NOW = datetime(2026, 11, 27, 14, 30, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def utc_local_time() -> Iterator[None]:
    """Local time is UTC during each app test, and what it was afterwards (not set at import)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.fixture(autouse=True)
def no_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """A blinking cursor makes snapshots flaky: keep it steadily on."""
    original = Input._on_mount

    def on_mount(self: Input, event) -> None:  # type: ignore[no-untyped-def]
        self.cursor_blink = False
        original(self, event)

    monkeypatch.setattr(Input, "_on_mount", on_mount)
    original_area = TextArea._on_mount

    def on_mount_area(self: TextArea, event) -> None:  # type: ignore[no-untyped-def]
        self.cursor_blink = False
        original_area(self, event)

    monkeypatch.setattr(TextArea, "_on_mount", on_mount_area)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "war.jsonl"


@pytest.fixture
def store(store_path: Path):
    s = JsonStore(store_path)
    yield s
    s.close()


@pytest.fixture(scope="session")
def runbooks() -> Runbooks:
    return load_runbooks()


@pytest.fixture
def make_app(store: JsonStore, runbooks: Runbooks, tmp_path: Path) -> Callable[..., WarRoomApp]:
    def make(user: str = "alice", theme: str | None = None, the_store=None) -> WarRoomApp:
        s = the_store or store
        return WarRoomApp(
            s,
            runbooks,
            user,
            theme=theme,
            drafts=DraftBox(tmp_path / "drafts", s.location),
            clock=lambda: FIXED_NOW,
            tz=UTC,
            sync_wait=0.05,  # a short wait lets each test's sync thread end promptly
        )

    return make


async def wait_for(pilot: Pilot, condition: Callable[[], object], timeout: float = 30.0) -> None:
    """Let the app run until `condition()` holds; fail with a clear message at the deadline
    (generous: a loaded 2-core machine runs two workers of this suite, and a passing wait
    costs only its own time)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await pilot.pause(0.02)


async def settled(pilot: Pilot, timeout: float = 30.0) -> None:
    """Until the screen draws the same twice in a row: laid out and painted (before a snapshot)."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        await pilot.pause(0.02)
        shown = pilot.app.export_screenshot()
        if shown == last:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the screen kept changing for {timeout} s")
        last = shown
