"""Text from other people is data: shown literally, never markup, never terminal control."""

from __future__ import annotations

import html
import json
from dataclasses import replace
from datetime import timedelta

from textual.command import CommandList, CommandPalette

from incident_tui.domain.commands import declare_event
from incident_tui.domain.events import new_event
from incident_tui.ui.screens.dashboard import DashboardScreen
from incident_tui.ui.screens.incidents import IncidentListScreen

from .conftest import FIXED_NOW, settled, wait_for

CLICK = "[@click=app.quit]x[/]"
HOSTILE = [
    CLICK,
    "[/]",
    "[b]not bold[/b] [red]not red",
    "\x1b]0;pwned-title\x07",
    "\x1b[2J\x1b[Hcleared",
    "\x1b]52;c;cGFzdGVk\x07clip",
    "\x9b31mc1-csi",
    "\x1b]8;;http://evil.example\x07link\x1b]8;;\x07",
    "\u202eevil-bidi",
]
AUTHOR = "[b]mallory[/b]\x1b[5m"


def seed(store) -> str:
    at = FIXED_NOW - timedelta(minutes=20)
    declared = declare_event(" ".join(HOSTILE), AUTHOR, "SEV1", summary=CLICK, at=at)
    inc = declared.incident
    events = [declared]
    for i, text in enumerate(HOSTILE):
        events.append(new_event(inc, "note", AUTHOR, {"text": text, "tags": ["[/]", CLICK]}, at + timedelta(minutes=i)))
    events += [
        new_event(inc, "role.assigned", AUTHOR, {"role": "commander", "user": CLICK}, at),
        new_event(inc, "role.assigned", AUTHOR, {"role": "[red]pwn", "user": "\x1b]0;t\x07"}, at),
        new_event(inc, "followup", AUTHOR, {"text": HOSTILE[2], "owner": "[/]", "due": "[@click=app.bell]"}, at),
        new_event(inc, "hypothesis", AUTHOR, {"text": HOSTILE[0]}, at),
        new_event(inc, "title.set", AUTHOR, {"value": "\x1b]0;pwned\x07 " + CLICK}, at),
    ]
    append_unchecked(store, events)
    return inc


def append_unchecked(store, events) -> None:
    """Lines appended as an older writer did, before today's schema refused control
    characters in names: what any reader may still meet in a log."""
    seq = store.latest_seq()
    with open(store.path, "ab") as f:
        for e in events:
            seq += 1
            f.write(json.dumps(replace(e, seq=seq).to_dict()).encode() + b"\n")


def screen_text(app) -> str:
    svg = app.export_screenshot()
    return html.unescape(svg).replace("\xa0", " ")


def assert_inert(text: str) -> None:
    for bad in ("\x1b", "\x9b", "\x07", "\u202e"):
        assert bad not in text, f"{bad!r} reached the screen"


async def test_hostile_text_in_every_field_renders_literally_and_fires_nothing(make_app, store, tmp_path):
    seed(store)
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        text = screen_text(app)
        assert_inert(text)
        assert "[@click=app.quit]x[/]" in text  # the title and the commander, as typed
        assert "[b]mallor" in text  # the author, unparsed (and cut to its column)
        assert "[b]not bold[/b] [red]not red" in text
        assert "␛]0;pwned-title␇" in text  # the OSC is shown, not obeyed
        assert "<U+202E>evil-bidi" in text

        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, IncidentListScreen))
        await pilot.pause()
        text = screen_text(app)
        assert_inert(text)
        assert "[@click=app.quit]x[/]" in text

        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"open")
        await wait_for(pilot, lambda: app.screen.query_one(CommandList).option_count > 0)  # the search answered
        assert_inert(screen_text(app))
        await pilot.press("escape")
        await pilot.pause()

        # A click on the text runs nothing: there is no action in what was typed.
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        await pilot.click("Timeline", offset=(30, 2))
        await pilot.pause()
        assert app.is_running and app.return_code is None


async def test_hostile_documents_render_in_the_viewer_without_breaking_it(make_app, store):
    seed(store)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        await pilot.press("f8")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "DocumentScreen")
        await settled(pilot)
        assert_inert(screen_text(app))
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        await pilot.press("f9")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "DocumentScreen")
        await settled(pilot)
        assert_inert(screen_text(app))
        assert app.is_running
