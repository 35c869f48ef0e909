"""Theme files: TOML in the package and in `<config dir>/themes/`, validated into Textual `Theme`s.

A theme file holds `name`, `dark`, the Textual theme colours and a `[variables]` table that
must define every name in `THEME_VARIABLES`, so the app's CSS can say `$sev1` or
`$phase-mitigating` under any of our themes. Builtin Textual themes lack them; the app
supplies `fallback_variables()` from `App.get_theme_variable_defaults` for those.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

from ..domain.checklists import read_settings_file

if TYPE_CHECKING:
    from textual.app import App

    from incident_tui.config import Config

log = logging.getLogger(__name__)

DEFAULT_THEME = "incident-dark"

SEVERITY_VARIABLES = ("sev1", "sev2", "sev3", "sev4", "sev5")
PHASE_VARIABLES = (
    "phase-detected",
    "phase-triage",
    "phase-mitigating",
    "phase-monitoring",
    "phase-resolved",
    "phase-postmortem",
    "phase-closed",
)
THEME_VARIABLES: tuple[str, ...] = (*SEVERITY_VARIABLES, *PHASE_VARIABLES, "overdue")

COLOR_KEYS = (
    "primary",
    "secondary",
    "accent",
    "warning",
    "error",
    "success",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)
_NUMBER_KEYS = ("luminosity_spread", "text_alpha")
_KNOWN_KEYS = {"name", "dark", "variables", *COLOR_KEYS, *_NUMBER_KEYS}

# Used under a theme that does not define our variables (Textual's builtin ones).
# Concrete colours, because a theme variable cannot refer to another `$variable`.
_FALLBACK_DARK = {
    "sev1": "#ff5f5f",
    "sev2": "#ff8700",
    "sev3": "#ffd700",
    "sev4": "#5fafff",
    "sev5": "#a8a8a8",
    "phase-detected": "#ff5faf",
    "phase-triage": "#ffaf00",
    "phase-mitigating": "#ff8700",
    "phase-monitoring": "#5fafff",
    "phase-resolved": "#5fd75f",
    "phase-postmortem": "#af87ff",
    "phase-closed": "#8a8a8a",
    "overdue": "#ff0000",
}
_FALLBACK_LIGHT = {
    "sev1": "#af0000",
    "sev2": "#875f00",
    "sev3": "#5f5f00",
    "sev4": "#005faf",
    "sev5": "#585858",
    "phase-detected": "#af005f",
    "phase-triage": "#875f00",
    "phase-mitigating": "#af0000",
    "phase-monitoring": "#005f87",
    "phase-resolved": "#005f00",
    "phase-postmortem": "#5f00af",
    "phase-closed": "#4e4e4e",
    "overdue": "#d70000",
}


class ThemeError(ValueError):
    """A theme file that cannot be used, or an unknown theme name (one line)."""


def fallback_variables(dark: bool = True) -> dict[str, str]:
    """Defaults for `THEME_VARIABLES`, for `App.get_theme_variable_defaults`."""
    return dict(_FALLBACK_DARK if dark else _FALLBACK_LIGHT)


def _check_color(path: Path, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ThemeError(f"{path}: {key} must be a colour string, not {type(value).__name__}")
    try:
        Color.parse(value)
    except ColorParseError:
        raise ThemeError(f"{path}: {key} = {value!r} is not a colour") from None
    return value


def theme_from_dict(doc: dict[str, Any], path: Path, check: bool = True) -> Theme:
    """Validate a parsed theme document; `path` only names it in errors."""
    unknown = sorted(set(doc) - _KNOWN_KEYS)
    if unknown:
        raise ThemeError(f"{path}: unknown key(s) {', '.join(unknown)}")
    name = doc.get("name")
    if not isinstance(name, str) or not name.strip() or name != name.strip():
        raise ThemeError(f"{path}: name must be a non-empty string without surrounding spaces")
    if "primary" not in doc:
        raise ThemeError(f"{path}: primary colour is missing")
    dark = doc.get("dark", True)
    if not isinstance(dark, bool):
        raise ThemeError(f"{path}: dark must be true or false")
    colors = {key: _check_color(path, key, doc[key]) for key in COLOR_KEYS if key in doc}
    numbers: dict[str, float] = {}
    for key in _NUMBER_KEYS:
        if key in doc:
            value = doc[key]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ThemeError(f"{path}: {key} must be a number")
            numbers[key] = float(value)
    variables = doc.get("variables", {})
    if not isinstance(variables, dict):
        raise ThemeError(f"{path}: [variables] must be a table")
    missing = [v for v in THEME_VARIABLES if v not in variables]
    if missing:
        raise ThemeError(f"{path}: [variables] is missing {', '.join(missing)}")
    for key, value in variables.items():
        if not isinstance(value, str):
            raise ThemeError(f"{path}: variables.{key} must be a string")
        if key in THEME_VARIABLES:
            _check_color(path, f"variables.{key}", value)
    theme = Theme(name=name, dark=dark, variables=dict(variables), **colors, **numbers)
    if not check:
        return theme
    try:
        # Textual derives shades from these; a value it cannot use fails here, not mid-run.
        theme.to_color_system().generate()
    except Exception as exc:
        raise ThemeError(f"{path}: Textual cannot use this theme: {exc}") from None
    return theme


def _parse(text_of: Callable[[], str], path: Path, check: bool = True) -> Theme:
    try:
        doc = tomllib.loads(text_of())
    except OSError as exc:
        raise ThemeError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ThemeError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ThemeError(f"{path}: not valid TOML: {exc}") from None
    return theme_from_dict(doc, path, check)


def load_theme_file(path: Path | str) -> Theme:
    """Read and validate one theme TOML file; raises a one-line `ThemeError`."""
    path = Path(path)
    return _parse(lambda: read_settings_file(path).decode("utf-8"), path)  # a FIFO there must not hang


def package_themes() -> list[Theme]:
    """The themes shipped in `incident_tui/themes/`, sorted by file name."""
    folder = resources.files("incident_tui") / "themes"
    # Read through the Traversable so this also works from a zipped install.
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".toml")), key=lambda f: f.name)
    # Textual's own check of each theme (deriving every shade) is ~1 ms a theme at every
    # start; the shipped ones are checked by tests/themes instead, user files here.
    return [_parse(lambda f=f: f.read_text("utf-8"), Path(str(f)), check=False) for f in files]


def user_themes(config_dir: Path, warnings: list[str] | None = None) -> list[Theme]:
    """Themes from `<config dir>/themes/*.toml`; a bad file is logged, added to `warnings`, skipped."""
    folder = Path(config_dir) / "themes"
    if not folder.is_dir():
        return []
    themes: list[Theme] = []
    for path in sorted(folder.glob("*.toml")):
        try:
            themes.append(load_theme_file(path))
        except ThemeError as exc:
            # A typo in a user's theme must never keep them out of an incident.
            log.warning("skipping theme file: %s", exc)
            if warnings is not None:
                warnings.append(str(exc))
    return themes


def register_themes(app: App[Any], config: Config, warnings: list[str] | None = None) -> str:
    """Register package and user themes on `app`; return the theme name to use.

    Pass `warnings` to collect skipped user files (to `notify` once the app runs).
    Only `app.register_theme` is called, so Textual's `BUILTIN_THEMES` stays untouched.
    User themes come from the directory holding the config file (the platformdirs config
    dir unless INCIDENT_TUI_CONFIG moves it) and may replace a package theme of that name.
    """
    for theme in package_themes():
        app.register_theme(theme)
    for theme in user_themes(config.config_path.parent, warnings):
        app.register_theme(theme)
    wanted = config.theme or DEFAULT_THEME
    if wanted not in app.available_themes:
        available = ", ".join(sorted(app.available_themes))
        raise ThemeError(f"unknown theme {wanted!r}; available: {available}")
    return wanted
