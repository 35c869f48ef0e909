"""App and screen styles live in .tcss files beside their modules, shipped with the package;
widgets keep their own DEFAULT_CSS."""

from __future__ import annotations

import fnmatch
import importlib
import inspect
import pkgutil
import tomllib
from pathlib import Path

from textual._path import _css_path_type_as_list
from textual.screen import Screen

import incident_tui
import incident_tui.ui.screens
from incident_tui.ui.app import WarRoomApp

PACKAGE = Path(incident_tui.__file__).parent
PYPROJECT = PACKAGE.parent / "pyproject.toml"


def _screens() -> list[type[Screen]]:
    found = []
    for info in pkgutil.iter_modules(incident_tui.ui.screens.__path__, "incident_tui.ui.screens."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Screen) and cls.__module__ == module.__name__:
                found.append(cls)
    return found


def _css_files(owner: type) -> list[Path]:
    """Where Textual looks for `owner`'s CSS_PATH (relative to the module defining it)."""
    here = Path(inspect.getfile(owner)).parent
    return [here / p for p in _css_path_type_as_list(owner.CSS_PATH)] if owner.CSS_PATH else []


def test_every_screen_is_styled_from_a_tcss_file_beside_it_not_from_python_strings() -> None:
    screens = _screens()
    assert len(screens) >= 8  # the list, the dashboard, documents, keys, reader, quit, the forms
    for screen in screens:
        assert "DEFAULT_CSS" not in vars(screen) and "CSS" not in vars(screen), screen
        files = _css_files(screen)
        assert files and all(f.suffix == ".tcss" and f.is_file() for f in files), (screen, files)
    assert "CSS" not in vars(WarRoomApp)
    app_files = _css_files(WarRoomApp)
    assert all(f.is_file() for f in app_files), app_files
    # The default screen's CSS_PATH is never loaded by Textual: the app reads it.
    from incident_tui.ui.screens.incidents import IncidentListScreen

    assert set(_css_files(IncidentListScreen)) <= {f.resolve() for f in app_files}


def test_every_tcss_file_is_package_data() -> None:
    globs = tomllib.loads(PYPROJECT.read_text("utf-8"))["tool"]["setuptools"]["package-data"]["incident_tui"]
    files = sorted(PACKAGE.rglob("*.tcss"))
    assert files
    for path in files:
        name = path.relative_to(PACKAGE).as_posix()
        assert any(fnmatch.fnmatch(name, g) and name.count("/") == g.count("/") for g in globs), name


async def test_every_tcss_file_parses_with_the_apps_theme_variables(make_app) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.pause()
        for path in sorted(PACKAGE.rglob("*.tcss")):
            app.stylesheet.read(path)
        app.stylesheet.reparse()  # raises StylesheetParseError naming the file and rule
