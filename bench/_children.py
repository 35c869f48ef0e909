"""Child processes of bench_timeline.py: each measures itself and prints one `RESULT {json}` line.

    python bench/_children.py open STORE EXPECTED_ROWS SPAWNED_AT
    python bench/_children.py cut STORE EXPECTED_ROWS SPAWNED_AT   (the app, rows cut: no wrapping)
    python bench/_children.py log STORE EXPECTED_ROWS SPAWNED_AT
    python bench/_children.py floor STORE EXPECTED_ROWS SPAWNED_AT

A child of its own per figure, so peak memory (ru_maxrss) is that figure's alone and the
clock can start at spawn (SPAWNED_AT is the parent's time.time() just before it).
"""

from __future__ import annotations

import time

CHILD_START = time.time()  # before any heavy import: interpreter start-up is in the figure

import asyncio  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

SIZE = (120, 40)
TIMEOUT = 120.0


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


async def _until_covered(widget_of: Any, expected: int, started: float) -> Any:
    """Poll (2 ms) until the widget's virtual height covers every row."""
    while True:
        widget = widget_of()
        if widget is not None and widget.virtual_size.height >= expected:
            return widget
        if time.time() - started > TIMEOUT:
            raise TimeoutError(f"timeline never covered {expected} rows")
        await asyncio.sleep(0.002)


async def _to_top(widget: Any) -> str:
    widget.scroll_home(animate=False, immediate=True)
    await asyncio.sleep(0)
    assert widget.scroll_y == 0, widget.scroll_y
    return widget.render_line(0).text.strip()


def child_open(store: str, expected: int, spawned: float, wrap: bool = True) -> dict[str, Any]:
    """The real app, started by the real CLI, with App.run swapped for a headless run_test."""
    result: dict[str, Any] = {"start_s": CHILD_START - spawned}

    from textual.app import App

    from incident_tui.ui import app as app_module
    from incident_tui.ui.widgets.timeline import Timeline

    Timeline.WRAP = wrap  # False: one cut line per event, the timeline before wrapping

    result["imported_s"] = time.time() - spawned

    async def measure(app: App[Any]) -> None:
        result["app_run_s"] = time.time() - spawned  # everything run_app did before App.run

        def timeline() -> Timeline | None:
            found = app.screen.query(Timeline)
            return found.first() if found else None

        async with app.run_test(size=SIZE) as pilot:
            await _record(result, timeline, expected, spawned)
            await pilot.pause()

    def headless_run(self: App[Any], *args: Any, **kwargs: Any) -> None:
        asyncio.run(measure(self))

    app_module.WarRoomApp.run = headless_run  # type: ignore[method-assign]
    from incident_tui.cli import main

    main(["--store", store, "--user", "bench"])
    return result


async def _record(result: dict[str, Any], find: Callable[[], Any], expected: int, spawned: float) -> None:
    """The same figures for the app and the baseline: covered, scrolled to the top, size, memory."""
    widget = await _until_covered(find, expected, spawned)
    result["covered_s"] = time.time() - spawned
    result["top_line"] = await _to_top(widget)
    result["top_s"] = time.time() - spawned
    result["rows"] = widget.virtual_size.height
    result["rss_mb"] = _rss_mb()


def child_log(store: str, expected: int, spawned: float) -> dict[str, Any]:
    """Baseline: Textual's own Log widget given every line in one write_lines call."""
    from textual.app import App, ComposeResult
    from textual.widgets import Log

    from incident_tui.store.jsonfile import JsonStore

    result: dict[str, Any] = {"start_s": CHILD_START - spawned}
    events = JsonStore(store).read()
    lines = [f"{e.at[11:16]} {e.author:<10} {e.kind:<5} {e.data.get('text', '')}" for e in events]
    result["loaded_s"] = time.time() - spawned

    class LogApp(App[None]):
        def compose(self) -> ComposeResult:
            yield Log()

        def on_mount(self) -> None:
            self.query_one(Log).write_lines(lines)

    async def measure() -> None:
        app = LogApp()
        async with app.run_test(size=SIZE) as pilot:
            await _record(result, lambda: app.query_one(Log), min(expected, len(lines)), spawned)
            await pilot.pause()

    asyncio.run(measure())
    return result


def child_floor(store: str, expected: int, spawned: float) -> dict[str, Any]:
    """The floor: read and fold the store, no Textual at all."""
    from incident_tui.domain.fold import Registry
    from incident_tui.store.jsonfile import JsonStore

    result: dict[str, Any] = {"start_s": CHILD_START - spawned}
    registry = Registry()
    registry.extend(JsonStore(store).read())
    result["top_s"] = time.time() - spawned
    result["rows"] = max(len(s.timeline) for s in registry.incidents.values())
    result["rss_mb"] = _rss_mb()
    return result


def child_open_cut(store: str, expected: int, spawned: float) -> dict[str, Any]:
    return child_open(store, expected, spawned, wrap=False)


CHILDREN = {"open": child_open, "cut": child_open_cut, "log": child_log, "floor": child_floor}

if __name__ == "__main__":
    mode, store_path, rows, spawned_at = sys.argv[1:5]
    out = CHILDREN[mode](store_path, int(rows), float(spawned_at))
    print("RESULT " + json.dumps(out), flush=True)
