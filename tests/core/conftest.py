from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

CliRunner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "incidents.jsonl"


@pytest.fixture
def cli(store_path: Path, in_process) -> CliRunner:
    """`incident-tui` against the test's store, in this process (`main(argv)`)."""

    def run(*args: str, user: str | None = "alice", input: str | None = None, store: Path | bool | None = None):
        """`store=False` / `user=None` leave those to the config file and defaults."""
        env: dict[str, str | None] = {}
        if store is not False:
            env["INCIDENT_TUI_STORE"] = str(store or store_path)
        if user is not None:
            env["INCIDENT_TUI_USER"] = user
        return in_process(args, env, input)

    return run


@pytest.fixture
def cli_process(store_path: Path) -> CliRunner:
    """The real `incident-tui` in a child process: the smoke tests of each verb family."""

    def run(*args: str, user: str | None = "alice", input: str | None = None, store: Path | bool | None = None):
        env = dict(os.environ)
        if store is not False:
            env["INCIDENT_TUI_STORE"] = str(store or store_path)
        if user is not None:
            env["INCIDENT_TUI_USER"] = user
        return subprocess.run(
            [sys.executable, "-m", "incident_tui", *args],
            capture_output=True,
            text=True,
            env=env,
            input=input,
            timeout=60,
        )

    return run
