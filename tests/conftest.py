"""Shared by every test folder: keep each test away from the real user's settings and data."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    for var in ("STORE", "REMOTE", "TOKEN", "USER", "THEME", "RUNBOOKS", "DATABASE"):
        monkeypatch.delenv(f"INCIDENT_TUI_{var}", raising=False)
    monkeypatch.setenv("INCIDENT_TUI_CONFIG", str(home / "config.toml"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
