"""Shared by every test folder: keep each test away from the real user's settings and data."""

from __future__ import annotations

import asyncio
import contextlib
import io
import subprocess
import sys
from collections.abc import Sequence

import pytest


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    for var in ("STORE", "REMOTE", "TOKEN", "USER", "THEME", "RUNBOOKS", "DATABASE"):
        monkeypatch.delenv(f"INCIDENT_TUI_{var}", raising=False)
    monkeypatch.setenv("INCIDENT_TUI_CONFIG", str(home / "config.toml"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))


async def _yield_to_the_loop(min_sleep: float = 0.0, max_sleep: float = 1.0) -> None:
    await asyncio.sleep(0)
    await asyncio.sleep(0)


@pytest.fixture(autouse=True)
def _pilot_waits_on_messages_not_on_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """Textual's Pilot waits after each key until the *process* looks idle (CPU time against
    wall time, up to 1 s a wait, twice a key). CPU time counts every thread of the test
    process -- store sync threads, servers in threads, an app ticking every 20 ms -- so a
    busy process paid up to 2 s a key (115 s of the app tests' wall time went there). The
    Pilot still drains every pending message of the app and its screen after each key;
    the tests wait on the condition they need (`wait_for`), never on the machine going quiet."""
    import textual.app
    import textual.pilot

    monkeypatch.setattr(textual.app, "wait_for_idle", _yield_to_the_loop)
    monkeypatch.setattr(textual.pilot, "wait_for_idle", _yield_to_the_loop)
    run_test = textual.app.App.run_test

    @contextlib.asynccontextmanager
    async def run_test_then_drain(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        # A test ends once its condition holds; what the app queued meanwhile (a screen
        # resumed, a key's bindings) is processed before the app is shut down, not during.
        async with run_test(self, *args, **kwargs) as pilot:
            yield pilot
            if self.is_running:
                await pilot._wait_for_screen()
                await pilot._wait_for_screen()

    monkeypatch.setattr(textual.app.App, "run_test", run_test_then_drain)


def run_main(
    monkeypatch: pytest.MonkeyPatch, args: Sequence[str], env: dict[str, str | None], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`incident-tui ARGS` in this process: `main(argv)` with its environment, stdin, stdout
    and stderr for the call (a new Python costs 0.3-0.8 s here; one smoke test per verb
    family still runs the real program). Returns what a finished process would."""
    from incident_tui.cli import main

    out, err = io.StringIO(), io.StringIO()
    with monkeypatch.context() as m:
        for name, value in env.items():
            if value is None:
                m.delenv(name, raising=False)
            else:
                m.setenv(name, value)
        m.setattr(sys, "stdin", io.StringIO(stdin or ""))
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse: --help, usage errors
                code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
    return subprocess.CompletedProcess(["incident-tui", *args], code, out.getvalue(), err.getvalue())


@pytest.fixture
def in_process(monkeypatch: pytest.MonkeyPatch):
    """`run_main` bound to this test's monkeypatch."""

    def run(args: Sequence[str], env: dict[str, str | None], stdin: str | None = None):
        return run_main(monkeypatch, args, env, stdin)

    return run
