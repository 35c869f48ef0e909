"""A Static whose text is drawn from what it shows, in its component styles (theme colours)."""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.visual import Visual, visualize
from textual.widgets import Static


class ThemedText(Static):
    """Subclasses name their styled parts in COMPONENT_CLASSES, style them with theme
    variables in DEFAULT_CSS and implement `draw`; `show` methods call `redraw`.

    Text stored with `update()` keeps the colours it was built with. Drawn in `render`
    instead, it follows a theme switch: Textual repaints a widget whose component styles
    changed. The drawn text is kept until the shown state, the width or a style changes,
    so a layout pass (height: auto asks for it) costs what a plain Static's does."""

    COMPONENT_CLASSES: ClassVar[set[str]] = set()

    _drawn: Visual | None = None
    _drawn_for: tuple[int, tuple[Style, ...]] | None = None

    def draw(self, width: int, styles: dict[str, Style]) -> Text | None:
        """The text for `width` cells; `styles`: each component class's style. None: nothing shown yet."""
        raise NotImplementedError

    def redraw(self) -> None:
        """What is shown changed."""
        self._drawn = None
        self.refresh(layout=True)

    def render(self) -> Visual:
        width = self.content_region.width or 40
        styles = {name: self.get_component_rich_style(name, partial=True) for name in sorted(self.COMPONENT_CLASSES)}
        key = (width, tuple(styles.values()))
        if self._drawn is None or key != self._drawn_for:
            self._drawn = visualize(self, self.draw(width, styles) or Text(), markup=False)
            self._drawn_for = key
        return self._drawn

    def on_resize(self) -> None:
        self.refresh(layout=True)  # drawn again for the new width (a height: auto text may wrap anew)
