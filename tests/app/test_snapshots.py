"""Snapshots of the list and the dashboard at 80x24 and 120x40, dark and high-contrast.

Baselines live in __snapshots__/ and are reviewed like code: look at the SVG before
accepting one (`pytest tests/app/test_snapshots.py --snapshot-update`).
"""

from __future__ import annotations

import pytest

from incident_tui.ui.screens.dashboard import DashboardScreen
from incident_tui.ui.screens.incidents import IncidentListScreen

from .conftest import settled, wait_for
from .helpers import declare, demo, log

THEMES = ["incident-dark", "incident-high-contrast"]
SIZES = [(80, 24), (120, 40)]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("theme", THEMES)
def test_dashboard(snap_compare, make_app, store, runbooks, theme, size):
    incident = demo(store, runbooks, until="mitigating")
    log(store, runbooks, incident, "/followup Alert on DB pool saturation @carol due:2026-12-11", author="alice")
    app = make_app(theme=theme)

    async def ready(pilot) -> None:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        await settled(pilot)

    assert snap_compare(app, terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("theme", THEMES)
def test_incident_list(snap_compare, make_app, store, runbooks, theme, size):
    demo(store, runbooks, until="mitigating")
    declare(store, "Search results slow for some tenants", "SEV3", author="erin", minutes_ago=200)
    declare(store, "Status page shows stale data", "SEV4", author="dave", minutes_ago=15)
    app = make_app(theme=theme)

    async def ready(pilot) -> None:
        await wait_for(pilot, lambda: isinstance(app.screen, IncidentListScreen) and app.registry is not None)
        await settled(pilot)

    assert snap_compare(app, terminal_size=size, run_before=ready)


def test_dashboard_side_panes_swapped_in_at_80_columns(snap_compare, make_app, store, runbooks):
    demo(store, runbooks, until="mitigating")
    app = make_app(theme="incident-dark")

    async def ready(pilot) -> None:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        await pilot.press("f10")
        await settled(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=ready)
