"""SPEC 11 in the app: alerts on the timeline and their count in the header; a header line
while `serve` fails to deliver notifications (read from the status file beside the store)."""

from __future__ import annotations

import os

import orjson
from textual.widgets import Label, Static

from incident_tui.domain.events import new_event
from incident_tui.store.deliveries import status_file
from incident_tui.ui.screens.dashboard import DashboardScreen

from .conftest import wait_for
from .helpers import declare, timeline_lines


def alert(incident: str, fp: str, status: str, summary: str) -> object:
    data = {
        "status": status,
        "fingerprint": fp,
        "labels": {"alertname": "HighErrorRate", "severity": "critical"},
        "summary": summary,
        "url": "http://prometheus:9090/graph",
        "starts_at": "",
        "ends_at": "",
        "group": "g1",
        "source": "alertmanager",
    }
    return new_event(incident, "alert", "alertmanager", data)


async def test_alerts_show_in_the_timeline_and_the_header_counts_them(make_app, store):
    inc = declare(store, "Checkout errors")
    store.append(
        [alert(inc, "a", "firing", "5xx on checkout"), alert(inc, "b", "firing", "\x1b[31m[@click=app.quit]x")]
    )
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        counts = app.screen.query_one("#hdr-alerts", Label)
        await wait_for(pilot, lambda: str(counts.render()) == "alerts 2▲0✓")
        lines = timeline_lines(app.screen)
        assert any(
            "ALERT" in ln and "firing HighErrorRate: 5xx on checkout http://prometheus:9090/graph" in ln for ln in lines
        )
        assert not any("\x1b" in ln for ln in lines)
        store.append([alert(inc, "a", "resolved", "5xx on checkout")])
        await wait_for(pilot, lambda: str(counts.render()) == "alerts 1▲1✓")
        assert app.is_running  # the hostile summary ran nothing


async def test_a_failing_destination_and_a_missing_commander_put_a_line_under_the_header(make_app, store):
    declare(store, "Checkout errors")
    path = status_file(store.location)
    doc = {"failing": [{"destination": "ops-chat", "last_error": "HTTP 503"}], "dead": 0}
    with open(path, "wb") as f:
        f.write(orjson.dumps(doc))
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        line = app.screen.query_one("#notify-line", Static)
        await wait_for(pilot, lambda: "ops-chat (HTTP 503)" in str(line.render()) and line.display)
        with open(path + ".tmp", "wb") as f:
            f.write(orjson.dumps({"failing": [], "dead": 0}))
        os.replace(path + ".tmp", path)
        await wait_for(pilot, lambda: "notify failing" not in str(line.render()))
        # What stays is the reminder the state owes: declared 30 min ago, nobody in command.
        assert "INC-1 has no commander 30 min after declaration" in str(line.render()) and line.display
