"""Registering themes on an App and using the theme variables in CSS."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.color import Color
from textual.theme import BUILTIN_THEMES
from textual.widgets import Static

from incident_tui.config import load_config
from incident_tui.ui.theming import (
    DEFAULT_THEME,
    THEME_VARIABLES,
    ThemeError,
    fallback_variables,
    package_themes,
    register_themes,
)


class SeverityApp(App[None]):
    """The smallest app that uses our variables the way the real one does."""

    CSS = """
    #sev1 { color: $sev1; }
    #phase { background: $phase-mitigating; color: $overdue; }
    """

    def __init__(self, theme_name: str | None = None) -> None:
        super().__init__()
        self._wanted = theme_name

    def get_theme_variable_defaults(self) -> dict[str, str]:
        # What the app must do so a builtin Textual theme still parses our CSS.
        return {**super().get_theme_variable_defaults(), **fallback_variables(self.current_theme.dark)}

    def compose(self) -> ComposeResult:
        yield Static("SEV1", id="sev1")
        yield Static("mitigating", id="phase")

    def on_mount(self) -> None:
        name = register_themes(self, load_config(theme=self._wanted))
        self.theme = name


def test_register_themes_returns_the_default_and_leaves_builtin_themes_alone() -> None:
    before = copy.deepcopy(BUILTIN_THEMES)
    app: App[Any] = App()
    assert register_themes(app, load_config()) == DEFAULT_THEME
    assert BUILTIN_THEMES == before
    assert {t.name for t in package_themes()} <= set(app.available_themes)
    assert "textual-dark" in app.available_themes


def test_theme_comes_from_the_environment_and_the_flag_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INCIDENT_TUI_THEME", "incident-light")
    assert register_themes(App(), load_config()) == "incident-light"
    assert register_themes(App(), load_config(theme="incident-high-contrast")) == "incident-high-contrast"


def test_an_unknown_theme_name_lists_the_available_ones() -> None:
    with pytest.raises(ThemeError) as info:
        register_themes(App(), load_config(theme="blurple"))
    message = str(info.value)
    assert message.startswith("unknown theme 'blurple'; available: ")
    assert "incident-dark" in message and "textual-dark" in message


def test_a_user_theme_in_the_config_dir_is_registered_and_a_broken_one_skipped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("INCIDENT_TUI_CONFIG", str(tmp_path / "config.toml"))
    (tmp_path / "themes").mkdir()
    variables = "\n".join(f'{v} = "#00ff00"' for v in THEME_VARIABLES)
    (tmp_path / "themes" / "team.toml").write_text(
        f'name = "team"\nprimary = "#ff00ff"\n[variables]\n{variables}\n', "utf-8"
    )
    (tmp_path / "themes" / "oops.toml").write_text("name = [", "utf-8")
    warnings: list[str] = []
    app: App[Any] = App()
    assert register_themes(app, load_config(theme="team"), warnings) == "team"
    assert app.get_theme("team") is not None
    assert len(warnings) == 1 and "oops.toml" in warnings[0]


@pytest.mark.parametrize("name", [t.name for t in package_themes()] + ["textual-dark", "textual-light"])
async def test_css_using_theme_variables_renders_under_each_theme(name: str) -> None:
    app = SeverityApp(name)
    async with app.run_test(size=(40, 5)) as pilot:
        await pilot.pause()
        assert app.theme == name
        expected = app.current_theme.variables.get("sev1") or fallback_variables(app.current_theme.dark)["sev1"]
        sev1 = app.query_one("#sev1", Static)
        assert sev1.styles.color.hex.lower() == expected.lower()
        assert "SEV1" in "".join(strip.text for strip in sev1.render_lines(sev1.region.reset_offset))


async def test_no_color_turns_theme_colours_to_grey_and_enables_the_nocolor_pseudo_class(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Textual reads NO_COLOR in App.__init__: it adds a Monochrome line filter and sets the
    # `:nocolor` pseudo-class, which the app's CSS can use to keep emphasis without colour.
    monkeypatch.setenv("NO_COLOR", "1")
    app = SeverityApp("incident-dark")
    async with app.run_test(size=(40, 5)) as pilot:
        await pilot.pause()
        assert app.no_color and app.screen.query_one("#sev1").has_pseudo_class("nocolor")
        sev1 = app.query_one("#sev1", Static)
        segments = list(sev1.render_lines(sev1.region.reset_offset)[0])
        for line_filter in app.get_line_filters():
            segments = line_filter.apply(segments, Color(0, 0, 0))
        (text,) = [s for s in segments if "SEV1" in s.text]
        assert text.style is not None and text.style.color is not None
        red, green, blue = text.style.color.get_truecolor()
        assert red == green == blue
