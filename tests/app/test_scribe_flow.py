"""The scribe's keyboard-only flow: type, see it in the timeline, the store and the panes."""

from __future__ import annotations

from textual.widgets import Input, Label, Static

from incident_tui.ui.screens.dashboard import DashboardScreen
from incident_tui.ui.screens.forms import AssignScreen, CheckScreen, DeclareScreen, FilterScreen
from incident_tui.ui.screens.incidents import IncidentListScreen
from incident_tui.ui.widgets.command_bar import CommandBar
from incident_tui.ui.widgets.roles import RolesPane
from incident_tui.ui.widgets.timeline import Timeline

from .conftest import wait_for
from .helpers import declare, demo, log, timeline_lines


async def type_line(pilot, text: str, keys: bool = False) -> None:
    """Put `text` in the bar: pressed key by key, or set at once (pressing is ~30 ms a key)."""
    bar = pilot.app.screen.query_one(CommandBar)
    bar.value = ""
    if keys:
        await pilot.press(*text)
    else:
        bar.value = text
        bar.cursor_position = len(text)
        await pilot.pause()


async def submit(pilot, text: str, keys: bool = False) -> None:
    before = pilot.app.store.latest_seq()
    await type_line(pilot, text, keys)
    await pilot.press("enter")
    await wait_for(pilot, lambda: pilot.app.store.latest_seq() > before)
    await wait_for(pilot, lambda: pilot.app.registry.last_seq == pilot.app.store.latest_seq())
    # The store has it before the app hears back (LineAppended): then the bar clears and
    # the line joins the history. Under load that comes a few frames later.
    await wait_for(pilot, lambda: pilot.app.screen.query_one(CommandBar).value == "")


def hint(app) -> str:
    return str(app.screen.query_one("#hint", Static).render())


async def test_single_active_incident_opens_its_dashboard_with_the_bar_focused(make_app, store, runbooks):
    demo(store, runbooks)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        assert isinstance(app.focused, CommandBar)


async def test_notes_and_commands_reach_the_store_the_timeline_and_the_panes(make_app, store, runbooks):
    incident = demo(store, runbooks)
    app = make_app(user="bob")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        screen = app.screen
        await submit(pilot, "p99 4s #db", keys=True)
        assert store.read()[-1].kind == "note"
        assert store.read()[-1].data == {"text": "p99 4s #db", "tags": ["db"]}
        assert timeline_lines(screen)[-1].endswith("p99 4s #db")
        assert screen.query_one(CommandBar).value == ""  # cleared once the store acknowledged it

        await submit(pilot, "/sev 1")
        assert str(screen.query_one("#hdr-sev", Label).render()) == "SEV1"
        await submit(pilot, "/assign scribe bob")
        assert "scribe    bob" in str(screen.query_one(RolesPane).render())
        await submit(pilot, "/check 3")
        assert app.registry.incidents[incident].is_checked("triage", runbooks["triage"][2].id).by == "bob"
        await submit(pilot, "/decision roll back #rollback")
        assert "DEC" in timeline_lines(screen)[-1]
        await submit(pilot, "/phase mitigating")
        assert str(screen.query_one("#hdr-phase", Label).render()) == "mitigating"


async def test_a_refused_line_shows_its_reason_and_keeps_the_typed_text(make_app, store, runbooks):
    demo(store, runbooks)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        seq = store.latest_seq()
        await type_line(pilot, "/sev 9", keys=True)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "unknown severity '9'" in hint(app))
        assert app.screen.query_one(CommandBar).value == "/sev 9"
        assert store.latest_seq() == seq  # nothing written


async def test_history_walks_back_and_forth_and_returns_to_what_was_being_typed(make_app, store, runbooks):
    demo(store, runbooks)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        await submit(pilot, "first line")
        await submit(pilot, "second line")
        bar = app.screen.query_one(CommandBar)
        await type_line(pilot, "half")
        await pilot.press("up")
        assert bar.value == "second line"
        await pilot.press("up")
        assert bar.value == "first line"
        await pilot.press("down", "down")
        assert bar.value == "half"


async def test_tab_completes_commands_phases_roles_and_people(make_app, store, runbooks):
    demo(store, runbooks)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        bar = app.screen.query_one(CommandBar)
        await type_line(pilot, "/as", keys=True)
        await pilot.press("tab")
        await wait_for(pilot, lambda: bar.value == "/assign ")
        await pilot.press(*"sc", "tab")
        await wait_for(pilot, lambda: bar.value == "/assign scribe ")
        await pilot.press(*"pa", "tab")
        await wait_for(pilot, lambda: bar.value == "/assign scribe pagerbot ")
        await type_line(pilot, "/phase mit")
        await pilot.press("tab")
        await wait_for(pilot, lambda: bar.value == "/phase mitigating ")
        assert isinstance(app.focused, CommandBar)  # Tab completed instead of moving focus


async def test_list_opens_incidents_by_enter_and_f3_f4_switch_between_them(make_app, store):
    first = declare(store, "Search is slow", "SEV3")
    second = declare(store, "Login broken", "SEV1")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, IncidentListScreen) and app.registry is not None)
        await pilot.press("enter")  # rows sort by severity: SEV1 first
        await wait_for(pilot, lambda: getattr(app.screen, "incident", None) == second)
        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, IncidentListScreen))
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: getattr(app.screen, "incident", None) == first)
        await pilot.press("f4")
        await wait_for(pilot, lambda: getattr(app.screen, "incident", None) == second)
        await pilot.press("f3")
        await wait_for(pilot, lambda: getattr(app.screen, "incident", None) == first)


async def test_f3_right_after_opening_the_first_incident_goes_to_the_previous_one(make_app, store):
    first = declare(store, "Search is slow", "SEV3")
    second = declare(store, "Login broken", "SEV1")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, IncidentListScreen) and app.registry is not None)
        await pilot.press("enter")  # INC-2 (SEV1 sorts first); INC-1 was never opened
        await wait_for(pilot, lambda: getattr(app.screen, "incident", None) == second)
        await pilot.press("f3")
        await wait_for(pilot, lambda: getattr(app.screen, "incident", None) == first)
        await pilot.press("f3")  # wraps round: INC-2 again
        await wait_for(pilot, lambda: getattr(app.screen, "incident", None) == second)


async def test_n_declares_an_incident_through_a_form_and_opens_it(make_app, store):
    declare(store, "Search is slow", "SEV3")
    declare(store, "Login broken", "SEV1")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.registry is not None)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, DeclareScreen))
        app.screen.query_one("#title", Input).value = "Payments down"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        assert app.screen.state.title == "Payments down"
        assert app.screen.state.ref == "INC-3"


async def test_filter_key_narrows_the_timeline_to_a_tag(make_app, store, runbooks):
    demo(store, runbooks, until="monitoring")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        tl = app.screen.query_one(Timeline)
        everything = tl.row_count
        await pilot.press("f5")
        await wait_for(pilot, lambda: isinstance(app.screen, FilterScreen))
        await pilot.press(*"#db", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen) and tl.row_count < everything)
        assert tl.row_count > 0
        assert all("#db" in line for line in timeline_lines(app.screen))
        await pilot.press("f5")
        await wait_for(pilot, lambda: isinstance(app.screen, FilterScreen))
        await pilot.press("ctrl+u", "enter")  # an empty filter shows everything again
        await wait_for(pilot, lambda: tl.row_count == everything)
        assert tl.row_count == everything


async def test_f7_ticks_a_checklist_item_and_f6_assigns_a_role_through_the_same_path(make_app, store, runbooks):
    incident = demo(store, runbooks)
    app = make_app(user="bob")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        await pilot.press("f7")
        await wait_for(pilot, lambda: isinstance(app.screen, CheckScreen))
        await pilot.press("enter")  # the first open item is highlighted (1 ticked itself: a commander)
        await wait_for(pilot, lambda: store.read()[-1].kind == "checklist.set")
        assert store.read()[-1].author == "bob" and store.read()[-1].data["index"] == 2

        await pilot.press("f6")
        await wait_for(pilot, lambda: isinstance(app.screen, AssignScreen))
        await pilot.press("down", "enter")  # deputy; Enter moves to the name
        app.screen.query_one("#user", Input).value = "carol"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.registry.incidents[incident].holders("deputy") == ["carol"])
        assert isinstance(app.screen, DashboardScreen)


async def test_a_back_dated_line_keeps_its_time_and_escape_closes_forms_without_writing(make_app, store, runbooks):
    demo(store, runbooks)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        await submit(pilot, "@2026-11-27T13:25 /action paged the DB on-call")
        # Typed after the 13:28 rows about 13:25: marked ↶ (back-dated) and placed before them.
        lines = timeline_lines(app.screen)
        mine = next(line for line in lines if "paged the DB on-call" in line)
        assert mine.startswith("13:25↶ alice      ACT   paged the DB on-call")
        after = lines[lines.index(mine) + 1 :]
        assert after and all(line[:5] >= "13:28" and line[5] == " " for line in after)
        seq = store.latest_seq()
        await pilot.press("f6")
        await wait_for(pilot, lambda: isinstance(app.screen, AssignScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        assert store.latest_seq() == seq


async def test_ctrl_r_shows_the_lines_on_screen_in_full(make_app, store, runbooks):
    incident = demo(store, runbooks)
    for n in range(6):  # enough long entries that the reader scrolls
        log(store, runbooks, incident, f"entry {n}: the EU pool exhausts because " + "retries open connections " * 12)
    long = "the EU pool exhausts because " + "retries open connections " * 12 + "END-OF-LINE"
    log(store, runbooks, incident, long)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        tl = app.screen.query_one(Timeline)
        screen_text = "".join(tl.render_line(y).text for y in range(tl.scrollable_content_region.height))
        assert "END-OF-LINE" in screen_text  # the row wraps: it is on screen in full
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ReaderScreen")
        shown = str(app.screen.query_one("Static").render())
        assert "END-OF-LINE" in shown
        await pilot.press("end")  # the last wrapped row of the last entry is on screen
        scroll = app.screen.query_one("VerticalScroll")
        await wait_for(pilot, lambda: scroll.scroll_y == scroll.max_scroll_y)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))


async def test_the_second_pass_commands_complete_and_show_like_every_other(make_app, store, runbooks):
    demo(store, runbooks)
    app = make_app(user="bob")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        await type_line(pilot, "/miti")
        await pilot.press("tab")
        assert app.screen.query_one(CommandBar).value == "/mitigate "
        await submit(pilot, "/mitigate Rolled back checkout-api EU to v2.40")
        await wait_for(pilot, lambda: "Rolled back checkout-api EU" in timeline_lines(app.screen)[-1])
        assert "MIT" in timeline_lines(app.screen)[-1]
        await submit(pilot, "/lesson wrong Nobody watched the pool")
        await submit(pilot, "/why recovery: The rollback waited for a review")
        await submit(pilot, "/followup Alert on pool saturation @carol")
        n = len(app.screen.state.followups)
        await submit(pilot, f"/link F{n} https://tracker.example/CHK-7")
        await wait_for(pilot, lambda: f"F{n} → https://tracker.example/CHK-7" in timeline_lines(app.screen)[-1])
        state = app.screen.state
        assert state.lessons["wrong"][0].text == "Nobody watched the pool"
        assert state.why_chains["recovery"] == ["The rollback waited for a review"]
        assert state.followups[n - 1].link == "https://tracker.example/CHK-7"
        await type_line(pilot, "/lesson great")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "/lesson needs well, wrong or lucky" in hint(app))
