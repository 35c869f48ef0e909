"""Loading theme files: one-line errors for bad files, user themes never block the app."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from incident_tui.ui.theming import THEME_VARIABLES, ThemeError, load_theme_file, user_themes

GOOD_VARIABLES = "\n".join(f'{name} = "#ff5f5f"' for name in THEME_VARIABLES)


def _theme_text(name: str = "mine", primary: str = "#5fafff", variables: str = GOOD_VARIABLES) -> str:
    return f'name = "{name}"\ndark = true\nprimary = "{primary}"\nbackground = "#000000"\n\n[variables]\n{variables}\n'


def test_a_complete_theme_file_loads_as_a_textual_theme(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(_theme_text(), "utf-8")
    theme = load_theme_file(path)
    assert theme.name == "mine" and theme.primary == "#5fafff" and theme.dark
    assert theme.variables["phase-mitigating"] == "#ff5f5f"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("name = ", "not valid TOML"),
        (_theme_text(variables='sev1 = "#ff0000"'), "missing sev2"),
        (_theme_text(primary="not-a-colour"), "primary = 'not-a-colour' is not a colour"),
        (_theme_text(variables=GOOD_VARIABLES.replace('sev3 = "#ff5f5f"', 'sev3 = "blurple"')), "variables.sev3"),
        ('primary = "#ffffff"\n', "name must be"),
        (_theme_text() + "\n", None),
        ('name = "x"\nprimry = "#fff"\n', "unknown key(s) primry"),
        ('name = "x"\ndark = "yes"\nprimary = "#fff"\n', "dark must be true or false"),
    ],
)
def test_a_bad_theme_file_is_refused_with_one_line_naming_the_file(
    tmp_path: Path, text: str, problem: str | None
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, "utf-8")
    if problem is None:
        load_theme_file(path)
        return
    with pytest.raises(ThemeError) as info:
        load_theme_file(path)
    message = str(info.value)
    assert str(path) in message and problem in message and "\n" not in message


def test_a_missing_theme_file_is_a_theme_error(tmp_path: Path) -> None:
    with pytest.raises(ThemeError, match="cannot read"):
        load_theme_file(tmp_path / "nope.toml")


def test_user_themes_skip_a_broken_file_with_a_warning_and_keep_the_good_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "themes"
    folder.mkdir()
    (folder / "good.toml").write_text(_theme_text("team-night"), "utf-8")
    (folder / "broken.toml").write_text('name = "half"\nprimary = \n', "utf-8")
    warnings: list[str] = []
    with caplog.at_level(logging.WARNING):
        themes = user_themes(tmp_path, warnings)
    assert [t.name for t in themes] == ["team-night"]
    assert len(warnings) == 1 and "broken.toml" in warnings[0]
    assert "broken.toml" in caplog.text


def test_no_user_theme_folder_means_no_user_themes(tmp_path: Path) -> None:
    assert user_themes(tmp_path / "absent") == []
