"""Theme colours for code that draws with Rich styles (DataTable cells) rather than CSS.

The CSS variables ($sev1 .. $overdue) come from the theme files; under a theme without
them (a builtin Textual one) `theming.fallback_variables` fills them in, so neither our
CSS nor these styles ever miss a colour.
"""

from __future__ import annotations

from rich.style import Style
from textual.color import Color, ColorParseError

from .theming import fallback_variables


def with_fallbacks(variables: dict[str, str], dark: bool) -> dict[str, str]:
    for name, value in fallback_variables(dark).items():
        variables.setdefault(name, value)
    return variables


def variable_style(variables: dict[str, str], name: str, **kw: bool) -> Style:
    """A Rich style coloured like the CSS variable `name` (e.g. `sev1`, `phase-triage`)."""
    value = variables.get(name)
    try:
        return Style(color=Color.parse(value).rich_color, **kw) if value else Style(**kw)
    except ColorParseError:
        return Style(**kw)
