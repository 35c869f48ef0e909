"""Handoff snapshots and the postmortem draft, inside the app."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.css.query import NoMatches
from textual.widgets import MarkdownViewer

from incident_tui.ui.screens.dashboard import DashboardScreen
from incident_tui.ui.screens.document import DocumentScreen
from incident_tui.ui.widgets.command_bar import CommandBar

from .conftest import wait_for
from .helpers import declare, demo, log


def document_text(app) -> str:
    """The document on screen; "" while its viewer is still being mounted."""
    try:
        return app.screen.query_one(MarkdownViewer).document.source
    except NoMatches:
        return ""


async def wait_for_document(pilot) -> str:
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, DocumentScreen) and document_text(app))
    return document_text(app)


def document_title(app) -> str:
    return str(app.screen.query_one("#doc-title").render())


async def test_handoff_shows_the_snapshot_to_the_old_and_the_new_commander(make_app, store, runbooks):
    incident = demo(store, runbooks)
    alice, frank = make_app(user="alice"), make_app(user="frank")
    async with alice.run_test(size=(120, 40)) as a_pilot:
        await wait_for(a_pilot, lambda: isinstance(alice.screen, DashboardScreen))
        bar = alice.screen.query_one(CommandBar)
        bar.value = "/handoff frank"
        await a_pilot.press("enter")
        assert "Handoff snapshot: INC-1" in await wait_for_document(a_pilot)  # the state alice hands over
        assert "command alice → frank" in document_title(alice)
        assert alice.registry.incidents[incident].commander == "frank"
        await a_pilot.press("escape")
        await wait_for(a_pilot, lambda: isinstance(alice.screen, DashboardScreen))
        assert bar.value == ""

    async with frank.run_test(size=(120, 40)) as f_pilot:
        await wait_for(f_pilot, lambda: isinstance(frank.screen, DashboardScreen))
        # Only live snapshots open by themselves; the one already in the store is in the timeline.
        assert not isinstance(frank.screen, DocumentScreen)
        log(store, runbooks, incident, "/handoff alice", author="frank")
        await wait_for(f_pilot, lambda: isinstance(frank.screen, DocumentScreen))
        assert "command frank → alice" in document_title(frank)


async def test_the_postmortem_phase_opens_the_draft_only_where_it_was_typed(make_app, store, runbooks):
    incident = demo(store, runbooks, until=None)  # the whole demo: resolved, with root cause and follow-ups
    bob = make_app(user="bob")
    async with bob.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: bob.registry is not None)
        bob.open_incident(incident)
        await wait_for(pilot, lambda: isinstance(bob.screen, DashboardScreen) and bob.screen.query(CommandBar))
        bar = bob.screen.query_one(CommandBar)
        bar.value = "half-typed note"  # bob is mid-sentence when alice, elsewhere, moves the phase
        log(store, runbooks, incident, "/phase postmortem", author="alice")
        await wait_for(pilot, lambda: bob.registry.incidents[incident].phase == "postmortem")
        await wait_for(pilot, lambda: any("F9 opens the draft" in str(n.message) for n in bob._notifications))
        assert isinstance(bob.screen, DashboardScreen)
        assert bar.value == "half-typed note" and bob.focused is bar
        await pilot.press("f9")
        assert "Canary EU deploys" in await wait_for_document(pilot)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(bob.screen, DashboardScreen))
        bar.value = "/phase closed"
        await pilot.press("enter")
        await wait_for(pilot, lambda: bob.registry.incidents[incident].phase == "closed")
        bar.value = "/phase postmortem"  # typed here: the draft opens here
        await pilot.press("enter")
        text = await wait_for_document(pilot)
        assert "Root cause" in text or "root cause" in text


async def test_f8_f9_open_the_documents_and_ctrl_s_writes_them(make_app, store, runbooks, tmp_path, monkeypatch):
    demo(store, runbooks)
    monkeypatch.chdir(tmp_path)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        await pilot.press("f8")
        assert "snapshot" in (await wait_for_document(pilot)).lower()
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        await pilot.press("f9")
        await wait_for(
            pilot, lambda: isinstance(app.screen, DocumentScreen) and "postmortem draft" in document_title(app)
        )
        assert "postmortem" in (await wait_for_document(pilot)).lower()
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: (tmp_path / "INC-1-postmortem.md").exists())
        await wait_for(pilot, lambda: any("wrote" in n.message for n in app._notifications))
    assert (tmp_path / "INC-1-snapshot.md").read_text().strip()
    assert Path(tmp_path / "INC-1-postmortem.md").read_text().strip()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


async def test_documents_of_a_later_incident_carry_its_own_number(make_app, store, runbooks):
    declare(store, "an earlier incident")
    incident = demo(store, runbooks)  # INC-2: the app's fold holds only its own events per incident
    app = make_app(user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.registry is not None)
        app.open_incident(incident)
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        await pilot.press("f8")
        assert "INC-2" in await wait_for_document(pilot)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        log(store, runbooks, incident, "/handoff frank", author="alice")
        text = await wait_for_document(pilot)
        assert "Handoff snapshot: INC-2" in text and "INC-1" not in text
        assert "INC-2 handoff snapshot" in document_title(app)
