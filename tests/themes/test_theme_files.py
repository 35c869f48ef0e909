"""The shipped theme files: complete, valid, readable at 256 colours and with enough contrast."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import pytest
from rich.color import Color as RichColor
from rich.color import ColorSystem
from textual.color import Color

from incident_tui.ui.theming import (
    DEFAULT_THEME,
    PHASE_VARIABLES,
    SEVERITY_VARIABLES,
    THEME_VARIABLES,
    fallback_variables,
    load_theme_file,
    package_themes,
)

REPO = Path(__file__).resolve().parents[2]
THEMES = {theme.name: theme for theme in package_themes()}


def _luminance(value: str) -> float:
    color = Color.parse(value)

    def channel(v: int) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.r) + 0.7152 * channel(color.g) + 0.0722 * channel(color.b)


def _contrast(a: str, b: str) -> float:
    low, high = sorted((_luminance(a), _luminance(b)))
    return (high + 0.05) / (low + 0.05)


def test_package_ships_dark_light_and_high_contrast_themes() -> None:
    assert {DEFAULT_THEME, "incident-light", "incident-high-contrast"} <= set(THEMES)
    assert THEMES["incident-dark"].dark and not THEMES["incident-light"].dark


@pytest.mark.parametrize("path", sorted((REPO / "incident_tui" / "themes").glob("*.toml")), ids=lambda p: p.stem)
def test_every_package_theme_passes_textuals_own_check(path: Path) -> None:
    # The app skips this check for its own themes at start (~1 ms each); it is made here.
    theme = load_theme_file(path)
    theme.to_color_system().generate()


@pytest.mark.parametrize("name", sorted(THEMES))
def test_every_package_theme_defines_every_variable_as_a_colour(name: str) -> None:
    variables = THEMES[name].variables
    for var in THEME_VARIABLES:
        Color.parse(variables[var])


@pytest.mark.parametrize("name", sorted(THEMES))
def test_theme_colours_survive_256_colour_terminals_unchanged_and_distinct(name: str) -> None:
    # SSH rarely forwards COLORTERM, so Rich downgrades to xterm-256: our colours are palette
    # entries (Rich maps light greys to a neighbouring ramp step, hence the small tolerance),
    # and each group stays pairwise distinct after the downgrade.
    variables = THEMES[name].variables
    for var in THEME_VARIABLES:
        rich = RichColor.parse(variables[var])
        shown = rich.downgrade(ColorSystem.EIGHT_BIT).get_truecolor()
        assert max(abs(a - b) for a, b in zip(shown, rich.get_truecolor(), strict=True)) <= 12, var
    for group in (SEVERITY_VARIABLES, PHASE_VARIABLES):
        numbers = {RichColor.parse(variables[v]).downgrade(ColorSystem.EIGHT_BIT).number for v in group}
        assert len(numbers) == len(group), group


@pytest.mark.parametrize("name", sorted(THEMES))
def test_severity_and_phase_colours_are_readable_on_the_background(name: str) -> None:
    theme = THEMES[name]
    assert theme.background is not None
    minimum = 7.0 if name == "incident-high-contrast" else 4.5  # WCAG AAA / AA for text
    for var in THEME_VARIABLES:
        assert _contrast(theme.variables[var], theme.background) >= minimum, var


def test_fallback_variables_match_the_dark_and_light_package_themes() -> None:
    dark, light = THEMES["incident-dark"].variables, THEMES["incident-light"].variables
    assert fallback_variables() == {v: dark[v] for v in THEME_VARIABLES}
    assert fallback_variables(dark=False) == {v: light[v] for v in THEME_VARIABLES}


def test_top_level_themes_folder_is_the_package_folder() -> None:
    folder = REPO / "themes"
    assert folder.is_dir()
    names = {load_theme_file(path).name for path in folder.glob("*.toml")}
    assert names == set(THEMES)


def test_severity_colours_differ_pairwise_in_each_theme() -> None:
    for theme in THEMES.values():
        for a, b in combinations(SEVERITY_VARIABLES, 2):
            assert theme.variables[a] != theme.variables[b], (theme.name, a, b)
