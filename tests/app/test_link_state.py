"""A store that can only queue: the header shows the link and outbox, the timeline shows pending lines."""

from __future__ import annotations

from collections.abc import Sequence

from textual.widgets import Label

from incident_tui.domain.events import Event
from incident_tui.store.memory import MemoryStore
from incident_tui.ui.screens.dashboard import DashboardScreen
from incident_tui.ui.screens.quit import QuitScreen
from incident_tui.ui.widgets.command_bar import CommandBar

from .conftest import wait_for
from .helpers import demo, timeline_lines


class OfflineStore(MemoryStore):
    """Acknowledges nothing new: every append waits in an outbox, as a remote store's does offline."""

    def __init__(self) -> None:
        super().__init__()
        self.offline = False
        self.outbox: list[Event] = []

    def append(self, events: Sequence[Event]) -> list[Event]:
        if not self.offline:
            return super().append(events)
        self.outbox.extend(events)
        return list(events)  # seq=None: queued, not stored

    def link_state(self):
        return "offline" if self.offline else "connected"

    def reconnect(self) -> None:
        """The server is back: the outbox drains into the log, as a remote store's does."""
        self.offline = False
        queued, self.outbox = self.outbox, []
        super().append(queued)

    def pending(self) -> list[Event]:
        return list(self.outbox)


async def test_queued_lines_show_as_pending_and_the_header_counts_the_outbox(make_app, runbooks):
    store = OfflineStore()
    demo(store, runbooks)
    app = make_app(the_store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        link = app.screen.query_one("#hdr-link", Label)
        # Not a local store: it is read in the sync thread, and its link state follows.
        await wait_for(pilot, lambda: str(link.render()) == "● connected")
        store.offline = True
        await wait_for(pilot, lambda: "offline" in str(link.render()))
        bar = app.screen.query_one(CommandBar)
        bar.value = "written on a train"
        await pilot.press("enter")
        await wait_for(pilot, lambda: bar.value == "")  # queued counts as acknowledged: the line is safe
        await wait_for(pilot, lambda: str(link.render()) == "○ offline ⇡1")
        last = timeline_lines(app.screen)[-1]
        assert "⇡" in last and last.endswith("written on a train")
        assert "queued" in str(app.screen.query_one("#hint").render())


async def test_the_queued_hint_clears_when_the_link_returns(make_app, runbooks):
    store = OfflineStore()
    demo(store, runbooks)
    app = make_app(the_store=store)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        store.offline = True
        bar = app.screen.query_one(CommandBar)
        bar.value = "written in a tunnel"
        await pilot.press("enter")
        hint = app.screen.query_one("#hint")
        await wait_for(pilot, lambda: "server is unreachable" in str(hint.render()))
        store.reconnect()
        await wait_for(pilot, lambda: "every queued line reached the server" in str(hint.render()))
        assert str(app.screen.query_one("#hdr-link", Label).render()) == "● connected"


async def test_quit_with_queued_lines_asks_and_waits_for_the_server(make_app, runbooks):
    store = OfflineStore()
    demo(store, runbooks)
    app = make_app(the_store=store)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        store.offline = True
        bar = app.screen.query_one(CommandBar)
        bar.value = "last words"
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(app.room.pending) == 1)
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, QuitScreen))
        await pilot.press("escape")  # stay
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        assert app.is_running
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, QuitScreen))
        await pilot.press("w")  # wait for the server
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        assert app.is_running
        store.reconnect()
        await wait_for(pilot, lambda: not app.is_running)
    assert app.return_code == 0
    assert store.outbox == [] and store.read()[-1].data["text"] == "last words"


async def test_quit_can_leave_queued_lines_in_the_outbox(make_app, runbooks):
    store = OfflineStore()
    demo(store, runbooks)
    app = make_app(the_store=store)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        store.offline = True
        app.screen.query_one(CommandBar).value = "for later"
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(app.room.pending) == 1)
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, QuitScreen))
        await pilot.press("l")
        await wait_for(pilot, lambda: not app.is_running)
    assert [e.data["text"] for e in store.outbox] == ["for later"]


def test_a_remote_window_never_says_local_in_its_first_frame(runbooks, tmp_path):
    from incident_tui.store.remote import RemoteStore
    from incident_tui.ui.app import WarRoomApp
    from incident_tui.ui.widgets.header import link_text

    # A remote store opens nothing until the sync thread first reads it, after the first frame.
    store = RemoteStore("http://127.0.0.1:9", user="alice", data_dir=tmp_path)
    app = WarRoomApp(store, runbooks, "alice")
    assert link_text(app.room.link, 0) == "◌ connecting"
    store.close()
