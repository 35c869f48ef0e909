"""A store that can only queue: the header shows the link and outbox, the timeline shows pending lines."""

from __future__ import annotations

from collections.abc import Sequence

from textual.widgets import Label

from incident_tui.domain.events import Event
from incident_tui.store.memory import MemoryStore
from incident_tui.ui.screens.dashboard import DashboardScreen
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

    def pending(self) -> list[Event]:
        return list(self.outbox)


async def test_queued_lines_show_as_pending_and_the_header_counts_the_outbox(make_app, runbooks):
    store = OfflineStore()
    demo(store, runbooks)
    app = make_app(the_store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        link = app.screen.query_one("#hdr-link", Label)
        assert str(link.render()) == "● connected"
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
